namespace Meanwhile;

/// <summary>
/// Permits and the tasks waiting for one, first come first served: the engine of <see cref="LoopLock"/> (one permit)
/// and <see cref="LoopSemaphore"/>. A released permit goes straight to the waiter that waited longest, so a task that
/// releases and asks again goes behind it (no barging), and while anyone waits no permit is free.
/// </summary>
internal sealed class PermitQueue(WaitKind kind, string? name, int available) : IWaiterHost
{
    private EventLoop? _loop;
    private WaiterList _waiters;
    private SpareWaiters _spares;

    public string? Name => name;

    /// <summary>Permits nobody holds; never more than 0 while someone waits.</summary>
    public int Available { get; private set; } = available;

    public LoopTask? Enter() => LoopAffinity.Enter(ref _loop);

    public bool TryAcquire()
    {
        if (Available == 0) return false;
        Available--;
        return true;
    }

    public ValueTask AcquireAsync(LoopTask? owner, CancellationToken cancellationToken)
    {
        if (TryAcquire()) return default;
        var waiter = Rent();
        if (waiter.Start(cancellationToken, owner)) _waiters.Append(waiter);
        return waiter.AsTask();
    }

    /// <summary>Waits for a permit whatever happens to <paramref name="owner"/> (a condition taking its lock back).</summary>
    public ValueTask AcquireShieldedAsync(LoopTask? owner)
    {
        if (TryAcquire()) return default;
        var waiter = Rent();
        waiter.StartShielded(owner);
        _waiters.Append(waiter);
        return waiter.AsTask();
    }

    public void Release(int count)
    {
        while (count > 0 && _waiters.TakeFirst() is { } waiter)
        {
            waiter.Grant();
            count--;
        }
        Available += count;
    }

    private Waiter Rent()
    {
        var waiter = _spares.Take() ?? new Waiter(_loop!, this);
        waiter.Kind = kind;
        return waiter;
    }

    WaitReason IWaiterHost.ReasonFor(Waiter waiter) => new(kind, 0, name);

    void IWaiterHost.Unlink(Waiter waiter) => _waiters.Unlink(waiter);

    bool IWaiterHost.TryGiveBack(Waiter waiter)
    {
        Release(1); // the permit goes to the next waiter, or back to the pool
        return true;
    }

    void IWaiterHost.Recycle(Waiter waiter) => _spares.Keep(waiter);
}
