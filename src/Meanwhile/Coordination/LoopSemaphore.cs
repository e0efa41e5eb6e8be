namespace Meanwhile;

/// <summary>
/// A counting semaphore for tasks on one loop (asyncio's <c>Semaphore</c>, tokio's <c>Semaphore</c>): at most a number
/// of tasks hold a permit at once, the others wait, first come first served. <see cref="LoopBoundedSemaphore"/> refuses
/// a release that would exceed the initial count.
/// </summary>
/// <remarks>
/// Every member is for the loop's thread. A wait ends with <see cref="OperationCanceledException"/> when its task or a
/// scope around it is cancelled, without a token, and shows in <see cref="EventLoop.GetTasks"/>; a task cancelled after
/// a permit was passed to it but before it resumed passes the permit on. Taking a free permit allocates nothing.
/// </remarks>
public class LoopSemaphore
{
    private readonly PermitQueue _permits;

    /// <summary>Creates a semaphore.</summary>
    /// <param name="initialCount">How many permits are free at first.</param>
    /// <param name="name">A name for introspection (<see cref="WaitReason.Name"/>).</param>
    public LoopSemaphore(int initialCount, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialCount);
        _permits = new PermitQueue(WaitKind.Semaphore, name, initialCount);
    }

    /// <summary>The name given at creation, if any.</summary>
    public string? Name => _permits.Name;

    /// <summary>How many permits are free.</summary>
    public int CurrentCount => _permits.Available;

    /// <summary>Waits for a permit and takes it.</summary>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    public PermitAwaitable AcquireAsync(CancellationToken cancellationToken = default) => _permits.AcquireAsync(_permits.Enter(), cancellationToken);

    /// <summary>Takes a permit if one is free, without waiting.</summary>
    /// <returns>Whether a permit was taken.</returns>
    public bool TryAcquire()
    {
        _permits.Check();
        return _permits.TryAcquire();
    }

    /// <summary>Gives back <paramref name="count"/> permits: the tasks that waited longest get them, the rest become free.</summary>
    /// <param name="count">How many; at least 1.</param>
    /// <exception cref="SemaphoreFullException">A <see cref="LoopBoundedSemaphore"/> would exceed its initial count.</exception>
    public void Release(int count = 1)
    {
        _permits.Check();
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        CheckRelease(count);
        _permits.Release(count);
    }

    /// <summary>Refuses a release the semaphore does not allow.</summary>
    private protected virtual void CheckRelease(int count) { }
}
