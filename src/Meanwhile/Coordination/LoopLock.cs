namespace Meanwhile;

/// <summary>
/// A mutual-exclusion lock for tasks on one loop (asyncio's <c>Lock</c>, tokio's <c>Mutex</c>), held across awaits.
/// Not reentrant. Tasks get it in the order they asked: a released lock passes straight to the task that waited longest.
/// </summary>
/// <remarks>
/// Every member is for the loop's thread (the lock belongs to the loop that first uses it). A wait ends with
/// <see cref="OperationCanceledException"/> when its task or a scope around it is cancelled, without a token, and
/// shows in <see cref="EventLoop.GetTasks"/>; a task cancelled after the lock was passed to it but before it resumed
/// passes it on. Acquiring a free lock allocates nothing.
/// </remarks>
/// <example>
/// <code>
/// using (await sharedLock.LockAsync())
/// {
///     await WriteRecordAsync(); // no other task of the loop holds it meanwhile
/// }
/// </code>
/// </example>
public sealed class LoopLock
{
    private readonly PermitQueue _permits;

    /// <summary>Creates an unlocked lock.</summary>
    /// <param name="name">A name for introspection (<see cref="WaitReason.Name"/>).</param>
    public LoopLock(string? name = null) => _permits = new PermitQueue(WaitKind.Lock, name, 1);

    /// <summary>The name given at creation, if any.</summary>
    public string? Name => _permits.Name;

    /// <summary>Whether a task holds the lock (or it was passed to one that has not resumed yet).</summary>
    public bool IsLocked => _permits.Available == 0;

    /// <summary>Waits until the lock is free and takes it.</summary>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    public PermitAwaitable AcquireAsync(CancellationToken cancellationToken = default) => _permits.AcquireAsync(_permits.Enter(), cancellationToken);

    /// <summary>Takes the lock if it is free and nobody waits, without waiting.</summary>
    /// <returns>Whether the lock was taken.</returns>
    public bool TryAcquire()
    {
        _permits.Check();
        return _permits.TryAcquire();
    }

    /// <summary>Takes the lock and returns a holder that releases it when disposed (<c>using (await l.LockAsync())</c>).</summary>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    public LockHolderAwaitable LockAsync(CancellationToken cancellationToken = default) => new(this, AcquireAsync(cancellationToken));

    /// <summary>Releases the lock: the task that waited longest gets it, or it becomes free.</summary>
    /// <exception cref="InvalidOperationException">The lock is not held.</exception>
    public void Release()
    {
        _permits.Check();
        if (!IsLocked) throw new InvalidOperationException($"Cannot release {(Name is null ? "the lock" : $"lock '{Name}'")}: it is not held.");
        _permits.Release(1);
    }

    /// <summary>Takes the lock again for a <see cref="LoopCondition"/> that must hold it whatever happens to its task.</summary>
    internal PermitAwaitable AcquireShieldedAsync(LoopTask? owner) => _permits.AcquireShieldedAsync(owner);
}
