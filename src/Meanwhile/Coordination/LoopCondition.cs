using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A condition variable for tasks on one loop (asyncio's <c>Condition</c>): a task holding the lock waits for another
/// to <see cref="Notify"/> it, giving up the lock while it waits and holding it again when it resumes.
/// </summary>
/// <remarks>
/// Every member is for the loop's thread. Waiters are notified in the order they came. A wait ends with
/// <see cref="OperationCanceledException"/> when its task or a scope around it is cancelled, without a token (the
/// task holds the lock again before the exception leaves <see cref="WaitAsync"/>); a task cancelled after it was
/// notified but before it resumed passes the notification to the next waiter, so none is lost.
/// </remarks>
/// <example>
/// <code>
/// using (await ready.LockAsync())
/// {
///     await ready.WaitUntilAsync(() => jobs.Count > 0);
///     job = jobs.Dequeue();
/// }
/// </code>
/// </example>
public sealed class LoopCondition : IWaiterHost
{
    private readonly string? _name;
    private EventLoop? _loop;
    private WaiterList _waiters;
    private SpareWaiters _spares;

    /// <summary>Creates a condition.</summary>
    /// <param name="lockToUse">The lock it works with; null for a new one.</param>
    /// <param name="name">A name for introspection (<see cref="WaitReason.Name"/>).</param>
    public LoopCondition(LoopLock? lockToUse = null, string? name = null)
    {
        Lock = lockToUse ?? new LoopLock(name);
        _name = name;
    }

    /// <summary>The lock a task must hold to wait or notify.</summary>
    public LoopLock Lock { get; }

    /// <summary>The name given at creation, if any.</summary>
    public string? Name => _name;

    /// <summary>Takes the lock (see <see cref="LoopLock.LockAsync"/>).</summary>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    public LockHolderAwaitable LockAsync(CancellationToken cancellationToken = default) => Lock.LockAsync(cancellationToken);

    /// <summary>
    /// Releases the lock, waits to be notified, then takes the lock again. The caller must hold the lock; it holds it
    /// again when this completes, even with an exception.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    /// <exception cref="InvalidOperationException">The lock is not held.</exception>
    public ValueTask WaitAsync(CancellationToken cancellationToken = default)
    {
        var owner = LoopAffinity.Enter(ref _loop);
        CheckLocked("wait on");
        var waiter = _spares.Take() ?? new Waiter(_loop!, this) { Kind = WaitKind.Condition };
        if (waiter.Start(cancellationToken, owner)) _waiters.Append(waiter);
        Lock.Release();
        return TakeLockAfter(waiter.AsTask(), owner);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask TakeLockAfter(ValueTask notified, LoopTask? owner)
    {
        try
        {
            await notified;
        }
        finally
        {
            await Lock.AcquireShieldedAsync(owner);
        }
    }

    /// <summary>Waits until <paramref name="predicate"/> is true (asyncio's <c>wait_for</c>), checking it each time the condition is notified.</summary>
    /// <param name="predicate">Checked with the lock held.</param>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    public async ValueTask WaitUntilAsync(Func<bool> predicate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        while (!predicate()) await WaitAsync(cancellationToken);
    }

    /// <summary>Wakes up to <paramref name="count"/> waiting tasks, those that waited longest. The caller must hold the lock.</summary>
    /// <param name="count">How many.</param>
    /// <exception cref="InvalidOperationException">The lock is not held.</exception>
    public void Notify(int count = 1)
    {
        LoopAffinity.Enter(ref _loop);
        CheckLocked("notify");
        for (; count > 0 && _waiters.TakeFirst() is { } waiter; count--) waiter.Grant();
    }

    /// <summary>Wakes every waiting task. The caller must hold the lock.</summary>
    public void NotifyAll() => Notify(int.MaxValue);

    private void CheckLocked(string operation)
    {
        if (!Lock.IsLocked)
            throw new InvalidOperationException($"Cannot {operation} {(_name is null ? "the condition" : $"condition '{_name}'")} without holding its lock.");
    }

    WaitReason IWaiterHost.ReasonFor(Waiter waiter) => new(WaitKind.Condition, 0, _name);

    void IWaiterHost.Unlink(Waiter waiter) => _waiters.Unlink(waiter);

    bool IWaiterHost.TryGiveBack(Waiter waiter)
    {
        _waiters.TakeFirst()?.Grant(); // the notification passes to the next waiter (CPython's gh-112202)
        return true;
    }

    void IWaiterHost.Recycle(Waiter waiter) => _spares.Keep(waiter);
}
