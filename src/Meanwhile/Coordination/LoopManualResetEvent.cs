namespace Meanwhile;

/// <summary>
/// A flag tasks on one loop wait for (asyncio's <c>Event</c>; named after .NET's <c>ManualResetEvent</c>, since
/// <see cref="LoopEvent"/> is a recorded loop event): <see cref="Set"/> wakes every waiter, in the order they came, and
/// later waits pass at once until <see cref="Reset"/>.
/// </summary>
/// <remarks>
/// Every member is for the loop's thread. A wait ends with <see cref="OperationCanceledException"/> when its task or a
/// scope around it is cancelled, without a token, and shows in <see cref="EventLoop.GetTasks"/>.
/// </remarks>
public sealed class LoopManualResetEvent : IWaiterHost
{
    private readonly string? _name;
    private EventLoop? _loop;
    private WaiterList _waiters;
    private SpareWaiters _spares;
    private bool _set;

    /// <summary>Creates an event.</summary>
    /// <param name="initialState">Whether it starts set.</param>
    /// <param name="name">A name for introspection (<see cref="WaitReason.Name"/>).</param>
    public LoopManualResetEvent(bool initialState = false, string? name = null)
    {
        _set = initialState;
        _name = name;
    }

    /// <summary>The name given at creation, if any.</summary>
    public string? Name => _name;

    /// <summary>Whether the event is set.</summary>
    public bool IsSet => _set;

    /// <summary>Sets the event: every waiting task resumes, and waits pass at once until <see cref="Reset"/>.</summary>
    public void Set()
    {
        LoopAffinity.Enter(ref _loop);
        if (_set) return;
        _set = true;
        while (_waiters.TakeFirst() is { } waiter) waiter.Grant();
    }

    /// <summary>Clears the event: later waits wait again.</summary>
    public void Reset()
    {
        LoopAffinity.Enter(ref _loop);
        _set = false;
    }

    /// <summary>Waits until the event is set (at once if it is).</summary>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    public ValueTask WaitAsync(CancellationToken cancellationToken = default)
    {
        var owner = LoopAffinity.Enter(ref _loop);
        if (_set) return default;
        var waiter = _spares.Take() ?? new Waiter(_loop!, this) { Kind = WaitKind.Event };
        if (waiter.Start(cancellationToken, owner)) _waiters.Append(waiter);
        return waiter.AsTask();
    }

    WaitReason IWaiterHost.ReasonFor(Waiter waiter) => new(WaitKind.Event, 0, _name);

    void IWaiterHost.Unlink(Waiter waiter) => _waiters.Unlink(waiter);

    bool IWaiterHost.TryGiveBack(Waiter waiter) => true; // nothing to give back: the task sees its cancellation

    void IWaiterHost.Recycle(Waiter waiter) => _spares.Keep(waiter);
}
