using System.Diagnostics;

namespace Meanwhile;

/// <summary>
/// Measures the loop's lag for the <c>meanwhile.loop.lag</c> histogram, as Node's <c>monitorEventLoopDelay</c> does: a
/// timer every <see cref="Interval"/>, and how late its callback runs. A turn that hogs the loop delays it by what is
/// left of that turn. It runs only while someone listens to the histogram, so a loop nobody watches is not woken, and
/// never on a <see cref="VirtualClock"/>, whose time does not pass by itself.
/// </summary>
internal sealed class LagProbe
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
    private static readonly long IntervalTicks = (long)(Interval.TotalSeconds * Stopwatch.Frequency);

    private readonly EventLoop _loop;
    private readonly ProbeTimer _timer;
    private long _due;

    private LagProbe(EventLoop loop)
    {
        _loop = loop;
        _timer = new ProbeTimer(this);
    }

    /// <summary>Whether a listener wants the lag histogram.</summary>
    public static bool IsWanted => LoopMeter.Lag.Enabled;

    /// <summary>Starts probing <paramref name="loop"/> (loop thread); null where its time is not the system's.</summary>
    public static LagProbe? Start(EventLoop loop)
    {
        if (!ReferenceEquals(loop.Time, TimeProvider.System)) return null;
        var probe = new LagProbe(loop);
        probe.Arm();
        return probe;
    }

    private void Arm()
    {
        _due = Stopwatch.GetTimestamp() + IntervalTicks;
        _loop.ArmTimer(_timer, Interval);
    }

    private void Fire()
    {
        // Never negative: the timer does not fire early, but the clock reading for its deadline came a little later.
        long late = Math.Max(0, Stopwatch.GetTimestamp() - _due);
        LoopMeter.RecordLag(_loop, late / (double)Stopwatch.Frequency);
        if (IsWanted) Arm();
        else _loop.OnLagProbeStopped();
    }

    /// <summary>
    /// The probe's timer, re-armed each time its callback has run: when due, the callback runs from the ready queue,
    /// like a <see cref="EventLoop.CallLater"/> callback's. Of its own type so that the timer queue leaves it out of the
    /// count of the program's timers (<see cref="TimerQueue.Count"/>).
    /// </summary>
    internal sealed class ProbeTimer(LagProbe probe) : TimerEntry(probe._loop)
    {
        private readonly Action _fire = probe.Fire;

        internal override void Fire() => Loop.EnqueueReady(new ReadyItem(this));

        internal override object? CodeToResume => _fire;

        public override void Execute() => Loop.InvokeCallback(_fire);
    }
}
