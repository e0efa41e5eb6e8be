namespace Meanwhile;

/// <summary>A <see cref="EventLoop.CallLater"/> timer, to cancel before it runs.</summary>
public readonly struct TimerHandle
{
    private readonly CallbackTimer? _timer;

    internal TimerHandle(CallbackTimer timer) => _timer = timer;

    /// <summary>When the timer is due, in the loop clock's timestamp ticks (for tests).</summary>
    internal long Deadline => _timer?.Deadline ?? 0;

    /// <summary>Cancels the callback if it has not run yet. Call it on the loop thread.</summary>
    public void Cancel()
    {
        if (_timer is null) return;
        _timer.CheckThread();
        _timer.Cancel();
    }
}
