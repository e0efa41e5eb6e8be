using Meanwhile.Diagnostics;
using Meanwhile.Scheduling;

namespace Meanwhile.Timers;

/// <summary>
/// One loop timer: either a delay a task awaits (its continuation resumes the task) or a callback
/// (<see cref="EventLoop.CallLater"/>). Lives in the loop's <see cref="TimerQueue"/> until it fires or is cancelled.
/// </summary>
internal sealed class TimerEntry : LoopWait
{
    internal long Deadline;     // in the loop clock's timestamp ticks
    internal long Sequence;     // ties broken in arming order, so equal deadlines fire FIFO
    internal TimerQueue.TimerList? List;
    internal TimerEntry? Previous;
    internal TimerEntry? Next;
    private Action? _callback;

    public TimerEntry(EventLoop loop) : base(loop) { }

    public override WaitReason Reason => new(WaitKind.Timer, Deadline);

    /// <summary>Starts a delay: the returned task completes once the clock has moved <paramref name="delay"/> on.</summary>
    public ValueTask StartDelay(TimeSpan delay, CancellationToken token)
    {
        if (Begin(token)) Loop.ArmTimer(this, delay);
        return AsValueTask();
    }

    /// <summary>Arms a callback timer.</summary>
    public void StartCallback(TimeSpan delay, Action callback)
    {
        _callback = callback;
        Loop.ArmTimer(this, delay);
    }

    internal void CheckThread() => Loop.CheckThread();

    /// <summary>The timer is due: the loop calls this in deadline order.</summary>
    internal void Fire()
    {
        if (_callback is not null) Loop.EnqueueReady(new ReadyItem(this));
        else CompleteSuccess();
    }

    /// <summary>Cancels a callback timer (no-op once it ran).</summary>
    internal void CancelCallback()
    {
        if (_callback is null) return;
        _callback = null;
        if (List is not null) Loop.Timers.Remove(this);
    }

    protected override void OnCanceling()
    {
        if (List is not null) Loop.Timers.Remove(this);
    }

    public override void Execute()
    {
        if (_callback is null)
        {
            base.Execute(); // a delay: resume the task (a cancelled callback timer is never queued)
            return;
        }
        var callback = _callback;
        _callback = null; // runs once
        Loop.InvokeCallback(callback);
    }
}

/// <summary>A <see cref="EventLoop.CallLater"/> timer, to cancel before it runs.</summary>
public readonly struct TimerHandle
{
    private readonly TimerEntry? _entry;

    internal TimerHandle(TimerEntry entry) => _entry = entry;

    /// <summary>When the timer is due, in the loop clock's timestamp ticks (for tests).</summary>
    internal long Deadline => _entry?.Deadline ?? 0;

    /// <summary>Cancels the callback if it has not run yet. Call it on the loop thread.</summary>
    public void Cancel()
    {
        if (_entry is null) return;
        _entry.CheckThread();
        _entry.CancelCallback();
    }
}
