
namespace Meanwhile;

/// <summary>
/// One loop timer, a node of the loop's <see cref="TimerQueue"/> until it fires or is cancelled. This class is a delay a
/// task awaits (firing resumes it); <see cref="CallbackTimer"/> runs a callback instead.
/// </summary>
internal class TimerEntry : LoopWait
{
    internal long Deadline;     // in the loop clock's timestamp ticks
    internal TimerEntry? Previous; // the neighbours in its TimerQueue list: both null unless in the queue
    internal TimerEntry? Next;

    internal bool IsInQueue => Next is not null;

    public TimerEntry(EventLoop loop) : base(loop) { }

    public override WaitReason Reason
    {
        get
        {
            if (!IsInQueue && IsPending && Loop.IsLoopThread) Loop.StampDelays(); // started but its deadline not yet set
            return new(WaitKind.Timer, Deadline);
        }
    }

    /// <summary>Starts a delay for <paramref name="owner"/> (the running task): the returned task completes once the clock has moved <paramref name="delay"/> on.</summary>
    public ValueTask StartDelay(TimeSpan delay, LoopTask? owner, CancellationToken token)
    {
        if (Begin(token, owner)) Loop.ArmDelay(this, delay);
        return AsValueTask();
    }

    /// <summary>The timer is due: the loop calls this in deadline order.</summary>
    internal virtual void Fire() => CompleteSuccess();

    protected override void OnCanceling() => Loop.DisarmTimer(this);
}

/// <summary>A <see cref="EventLoop.CallLater"/> timer: runs a callback from the ready queue when due.</summary>
internal sealed class CallbackTimer : TimerEntry
{
    private Action? _callback;

    public CallbackTimer(EventLoop loop, TimeSpan delay, Action callback) : base(loop)
    {
        _callback = callback;
        Loop.ArmTimer(this, delay);
    }

    internal void CheckThread() => Loop.CheckThread();

    internal override void Fire() => Loop.EnqueueReady(new ReadyItem(this));

    internal override object? CodeToResume => _callback;

    /// <summary>Cancels the callback (no-op once it ran).</summary>
    internal void Cancel()
    {
        if (_callback is null) return;
        _callback = null;
        if (IsInQueue) Loop.Timers.Remove(this);
    }

    public override void Execute()
    {
        var callback = _callback;
        if (callback is null) return; // cancelled after it was queued
        _callback = null; // runs once
        Loop.InvokeCallback(callback);
    }
}
