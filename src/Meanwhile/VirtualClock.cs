namespace Meanwhile;

/// <summary>
/// A clock for tests: time stands still until it is advanced, by hand with <see cref="Advance"/> or,
/// when a loop runs on it with <see cref="AutoAdvance"/> on, by the loop itself, which jumps straight to
/// the next timer whenever every task waits on time only (like trio's autojump clock or tokio's paused
/// time). A 30-second timeout test then takes microseconds and always behaves the same.
/// </summary>
/// <remarks>
/// Timestamps count 100 ns ticks from zero. Timers made with <see cref="CreateTimer"/> (used by
/// <see cref="CancellationTokenSource"/> and other TimeProvider-aware code) fire on the thread that advances
/// the clock — the loop thread when a loop advances it.
/// </remarks>
public sealed class VirtualClock : TimeProvider
{
    private readonly object _gate = new();
    private readonly DateTimeOffset _epoch;
    private long _ticks;
    private readonly List<VirtualTimer> _timers = new();

    /// <summary>Creates a clock whose wall-clock time starts at <paramref name="start"/> (default 2000-01-01 UTC).</summary>
    public VirtualClock(DateTimeOffset? start = null)
    {
        _epoch = start ?? new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }

    /// <summary>Whether a loop running on this clock jumps to its next timer when nothing else can happen. Default: true.</summary>
    public bool AutoAdvance { get; set; } = true;

    /// <summary>How much virtual time has passed since the clock was made.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => _epoch + Elapsed;

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Moves time forward by <paramref name="delta"/>, firing the clock's own timers that fall due.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is negative.</exception>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        AdvanceTo(GetTimestamp() + delta.Ticks);
    }

    /// <summary>Raised after time moved, so loops on this clock wake up and look at their timers.</summary>
    internal event Action? Advanced;

    /// <summary>Moves time to <paramref name="timestamp"/> (never backwards), firing the clock's timers that fall due on the way.</summary>
    internal void AdvanceTo(long timestamp)
    {
        AdvanceCore(timestamp);
        Advanced?.Invoke();
    }

    private void AdvanceCore(long timestamp)
    {
        while (true)
        {
            VirtualTimer? due = null;
            lock (_gate)
            {
                foreach (var timer in _timers)
                    if (timer.Due <= timestamp && (due is null || timer.Due < due.Due)) due = timer;
                if (due is null)
                {
                    if (timestamp > _ticks) Interlocked.Exchange(ref _ticks, timestamp);
                    return;
                }
                if (due.Due > _ticks) Interlocked.Exchange(ref _ticks, due.Due);
                due.Rearm();
            }
            due.Fire();
        }
    }

    /// <summary>The due time of the clock's own earliest timer, if any.</summary>
    internal long? NextTimerDue
    {
        get
        {
            lock (_gate)
            {
                long? next = null;
                foreach (var timer in _timers)
                    if (next is null || timer.Due < next) next = timer.Due;
                return next;
            }
        }
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new VirtualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class VirtualTimer(VirtualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long Due;
        private long _period;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan) return true;
                Due = clock._ticks + Math.Max(0, dueTime.Ticks);
                _period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
                clock._timers.Add(this);
            }
            return true;
        }

        // Called under the clock's lock when the timer falls due.
        public void Rearm()
        {
            clock._timers.Remove(this);
            if (_period > 0)
            {
                Due += _period;
                clock._timers.Add(this);
            }
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._gate) clock._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
