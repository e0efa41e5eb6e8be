using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Meanwhile;

/// <summary>
/// The loops' metrics, on the meter <c>Meanwhile.Loop</c> (<c>dotnet-counters monitor --counters Meanwhile.Loop</c>),
/// one series per loop tagged <c>meanwhile.loop.id</c> and <c>meanwhile.loop.name</c>. Most are observed: read from
/// the loops' own counters when a listener collects, so the loops pay nothing for them. Lag is measured by a probe
/// (<see cref="LagProbe"/>) only while someone listens to it; slow turns and busy time need the loop's diagnostics on.
/// </summary>
internal static class LoopMeter
{
    public const string MeterName = "Meanwhile.Loop";

    private static readonly Meter Meter = new(MeterName, "0.1.0");

    public static readonly Histogram<double> Lag = Meter.CreateHistogram<double>(
        "meanwhile.loop.lag", "s", "How late a loop timer's callback ran (a probe every 50 ms while this is listened to): the wait a turn that hogs the loop imposes on everything else.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });

    public static readonly Counter<long> SlowTurns = Meter.CreateCounter<long>(
        "meanwhile.loop.slow_turns", "{turn}", "Turns longer than the loop's slow-turn threshold (diagnostics on).");

    static LoopMeter()
    {
        Meter.CreateObservableCounter("meanwhile.loop.turns", () => Observe(static l => l.TurnCount), "{turn}",
            "Turns of the loop: take posts, fire timers, run what is ready, poll the reactor.");
        Meter.CreateObservableGauge("meanwhile.loop.ready_queue.length", () => Observe(static l => (long)l.ReadyCount), "{item}",
            "Items in the ready queue, waiting for their turn.");
        Meter.CreateObservableUpDownCounter("meanwhile.loop.tasks.live", () => Observe(static l => (long)l.LiveTaskCount), "{task}",
            "Tasks alive (spawned and not finished).");
        Meter.CreateObservableCounter("meanwhile.loop.tasks.spawned", () => Observe(static l => l.SpawnedTaskCount), "{task}",
            "Tasks spawned.");
        Meter.CreateObservableUpDownCounter("meanwhile.loop.timers", () => Observe(static l => (long)l.TimerCount), "{timer}",
            "Timers armed (delays of one duration armed together share one; the lag probe's own is not counted).");
        Meter.CreateObservableUpDownCounter("meanwhile.loop.registrations", () => Observe(static l => (long)(l.RegistrationCount ?? 0)), "{registration}",
            "Descriptors (epoll) or sockets (portable) registered with the loop's reactor.");
        Meter.CreateObservableCounter("meanwhile.loop.busy_time", ObserveBusyTime, "s",
            "Time the loop spent running tasks and callbacks (diagnostics on).");
    }

    /// <summary>Makes sure the instruments exist (the static constructor ran), so that listeners see them once a loop exists.</summary>
    public static void EnsureCreated() { }

    public static void RecordLag(EventLoop loop, double seconds) => Lag.Record(seconds, TagsOf(loop));

    public static void RecordSlowTurn(EventLoop loop) => SlowTurns.Add(1, TagsOf(loop));

    private static IEnumerable<Measurement<long>> Observe(Func<EventLoop, long> read)
    {
        var loops = LiveLoops.Snapshot(withDiagnostics: false);
        var measurements = new Measurement<long>[loops.Count];
        for (int i = 0; i < loops.Count; i++) measurements[i] = new Measurement<long>(read(loops[i]), TagsOf(loops[i]));
        return measurements;
    }

    private static IEnumerable<Measurement<double>> ObserveBusyTime()
    {
        var measurements = new List<Measurement<double>>();
        foreach (var loop in LiveLoops.Snapshot(withDiagnostics: true))
            measurements.Add(new Measurement<double>(loop.Monitor!.BusyTicks / (double)Stopwatch.Frequency, TagsOf(loop)));
        return measurements;
    }

    private static ReadOnlySpan<KeyValuePair<string, object?>> TagsOf(EventLoop loop) => loop.MetricTags;
}
