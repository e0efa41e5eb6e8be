namespace Meanwhile;

/// <summary>
/// A barrier for tasks on one loop (asyncio's <c>Barrier</c>, tokio's <c>Barrier</c>): each of a number of participants
/// waits until all have arrived, then all go on together, and the barrier is ready for the next round.
/// </summary>
/// <remarks>
/// Every member is for the loop's thread. A task cancelled while it waits leaves the barrier (it no longer counts as
/// arrived) with <see cref="OperationCanceledException"/>, without a token; once the last participant arrived the
/// round is over and cancellation does not undo it. Waits show in <see cref="EventLoop.GetTasks"/>.
/// </remarks>
public sealed class LoopBarrier : IWaiterHost
{
    private readonly string? _name;
    private EventLoop? _loop;
    private WaiterList _waiting;
    private SpareWaiters _spares;
    private int _arrived;
    private bool _broken;

    /// <summary>Creates a barrier.</summary>
    /// <param name="participants">How many tasks each round waits for; at least 1.</param>
    /// <param name="name">A name for introspection (<see cref="WaitReason.Name"/>).</param>
    public LoopBarrier(int participants, string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(participants, 1);
        Participants = participants;
        _name = name;
    }

    /// <summary>The name given at creation, if any.</summary>
    public string? Name => _name;

    /// <summary>How many tasks each round waits for.</summary>
    public int Participants { get; }

    /// <summary>How many tasks wait in the current round.</summary>
    public int ArrivedCount => _arrived;

    /// <summary>Whether the barrier was aborted (waits throw until <see cref="Reset"/>).</summary>
    public bool IsBroken => _broken;

    /// <summary>Arrives and waits until every participant has (at once for the last one).</summary>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    /// <returns>The arrival's place in the round, 0 to <see cref="Participants"/> - 1 (asyncio's index); the last gets the highest.</returns>
    /// <exception cref="BarrierBrokenException">The barrier is broken, or was aborted or reset during the wait.</exception>
    public ValueTask<int> SignalAndWaitAsync(CancellationToken cancellationToken = default)
    {
        var owner = LoopAffinity.Enter(ref _loop);
        if (_broken) return ValueTask.FromException<int>(BrokenError("is broken"));
        if (_arrived + 1 == Participants)
        {
            int index = 0;
            while (_waiting.TakeFirst() is ItemWaiter<int> waiter)
            {
                waiter.Item = index++;
                waiter.Grant();
            }
            _arrived = 0;
            return new ValueTask<int>(index);
        }
        var arrival = (ItemWaiter<int>?)_spares.Take() ?? new ItemWaiter<int>(_loop!, this) { Kind = WaitKind.Barrier };
        if (arrival.Start(cancellationToken, owner))
        {
            _waiting.Append(arrival);
            _arrived++;
        }
        return arrival.AsItemTask();
    }

    /// <summary>Breaks the barrier: waiting tasks and later arrivals get <see cref="BarrierBrokenException"/> until <see cref="Reset"/>.</summary>
    public void Abort()
    {
        LoopAffinity.Enter(ref _loop);
        _broken = true;
        FailWaiting("was aborted");
    }

    /// <summary>Starts a new round: waiting tasks get <see cref="BarrierBrokenException"/>, and the barrier works again.</summary>
    public void Reset()
    {
        LoopAffinity.Enter(ref _loop);
        FailWaiting("was reset");
        _broken = false;
    }

    private void FailWaiting(string what)
    {
        while (_waiting.TakeFirst() is { } waiter) waiter.Fail(BrokenError(what));
        _arrived = 0;
    }

    private BarrierBrokenException BrokenError(string what) => new($"{(_name is null ? "The barrier" : $"Barrier '{_name}'")} {what}.");

    WaitReason IWaiterHost.ReasonFor(Waiter waiter) => new(WaitKind.Barrier, 0, _name);

    void IWaiterHost.Unlink(Waiter waiter)
    {
        _waiting.Unlink(waiter);
        _arrived--;
    }

    bool IWaiterHost.TryGiveBack(Waiter waiter) => false; // the round is over for everyone

    void IWaiterHost.Recycle(Waiter waiter) => _spares.Keep(waiter);
}
