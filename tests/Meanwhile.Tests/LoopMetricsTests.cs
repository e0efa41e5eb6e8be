using System.Diagnostics.Metrics;
using System.Net;

namespace Meanwhile.Tests;

/// <summary>Every instrument of the <c>Meanwhile.Loop</c> meter, read with a <see cref="MeterListener"/>.</summary>
public class LoopMetricsTests
{
    private static readonly string[] Instruments =
    [
        "meanwhile.loop.busy_time", "meanwhile.loop.lag", "meanwhile.loop.ready_queue.length", "meanwhile.loop.registrations",
        "meanwhile.loop.slow_turns", "meanwhile.loop.tasks.live", "meanwhile.loop.tasks.spawned", "meanwhile.loop.timers",
        "meanwhile.loop.turns",
    ];

    [Fact]
    public void A_listener_reads_every_instrument_of_the_loop_meter_for_each_loop()
    {
        using var series = new LoopSeries();
        Loops.Run(async loop =>
        {
            series.LoopId = loop.Id;
            await using var socket = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
            // Different durations, so that each has a timer (delays of one duration armed together share one).
            var sleepers = Enumerable.Range(1, 3).Select(hours => loop.Spawn(() => loop.Delay(TimeSpan.FromHours(hours)).AsTask())).ToList();
            await loop.Spawn(async () =>
            {
                await loop.Yield();
                DiagnosticsTests.Spin(TimeSpan.FromMilliseconds(40)); // a slow turn
            }, "hog");
            // The lag probe fires every 50 ms while someone listens. The observed instruments are read in its callback, on
            // the loop: main waits, the hog is done, nothing else runs or is ready, whatever the machine's timing. (Read
            // after main resumes instead, the probe could have fired again in the turn that wakes main, its callback
            // queued behind main's.)
            await loop.Cancellable(series.ObserveAtNextLag().WaitAsync(TimeSpan.FromSeconds(20)));

            Assert.Equal(Instruments, series.Names.Order());
            Assert.Equal(4, series.Last("meanwhile.loop.tasks.live")); // main and the three sleepers
            Assert.Equal(5, series.Last("meanwhile.loop.tasks.spawned"));
            Assert.Equal(3, series.Last("meanwhile.loop.timers")); // the sleepers'; the lag probe's own is not counted
            Assert.True(series.Last("meanwhile.loop.turns") > 2);
            Assert.Equal(0, series.Last("meanwhile.loop.ready_queue.length"));
            Assert.Equal(1, series.Last("meanwhile.loop.registrations")); // the listening socket, on either reactor
            Assert.True(series.Last("meanwhile.loop.busy_time") >= 0.040);
            Assert.True(series.Sum("meanwhile.loop.slow_turns") >= 1);
            Assert.InRange(series.Last("meanwhile.loop.lag"), 0, 30);
            foreach (var sleeper in sleepers) sleeper.Cancel();
        }, new EventLoopOptions { Diagnostics = true, SlowTurnThreshold = TimeSpan.FromMilliseconds(30), LoggerFactory = new ListLoggerFactory() });
    }

    [Fact]
    public void The_lag_probe_wakes_a_loop_that_has_no_timer_and_is_not_counted_as_one()
    {
        using var series = new LoopSeries();
        Loops.Run(async loop =>
        {
            series.LoopId = loop.Id;
            // Nothing else is armed: only the probe's timer can end the loop's wait in its reactor.
            await loop.Cancellable(series.ObserveAtNextLag().WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(0, series.Last("meanwhile.loop.timers"));
            Assert.Equal(0, loop.Timers.Count); // what the timer tests of other classes read while this listener listens
        });
    }

    [Fact]
    public void Without_diagnostics_the_counters_still_report_and_the_timed_ones_do_not()
    {
        using var series = new LoopSeries();
        Loops.Run(async loop =>
        {
            series.LoopId = loop.Id;
            await loop.Yield();
            series.Listener.RecordObservableInstruments();
        }, new EventLoopOptions { Diagnostics = false });
        Assert.Contains("meanwhile.loop.turns", series.Names);
        Assert.Contains("meanwhile.loop.tasks.live", series.Names);
        Assert.DoesNotContain("meanwhile.loop.busy_time", series.Names);
    }

    /// <summary>The measurements of one loop's series (other tests' loops report too), by instrument.</summary>
    private sealed class LoopSeries : IDisposable
    {
        private readonly Dictionary<string, List<double>> _values = [];
        private int _loopId;
        private TaskCompletionSource? _observeAtLag;

        public LoopSeries()
        {
            Listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Meanwhile.Loop") listener.EnableMeasurementEvents(instrument);
            };
            Listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
            Listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
            Listener.Start();
        }

        public MeterListener Listener { get; } = new();

        /// <summary>Reads the observed instruments in the next lag probe callback of the loop; completes once read.</summary>
        public Task ObserveAtNextLag()
        {
            var observed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _observeAtLag, observed);
            return observed.Task;
        }

        public int LoopId { set => Volatile.Write(ref _loopId, value); }

        public List<string> Names
        {
            get { lock (_values) return [.. _values.Keys]; }
        }

        public double Last(string name)
        {
            lock (_values) return _values[name][^1];
        }

        public double Sum(string name)
        {
            lock (_values) return _values[name].Sum();
        }

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key != "meanwhile.loop.id" || !Equals(tag.Value, Volatile.Read(ref _loopId))) continue;
                lock (_values)
                {
                    if (!_values.TryGetValue(instrument.Name, out var values)) _values[instrument.Name] = values = [];
                    values.Add(value);
                }
                if (instrument.Name == "meanwhile.loop.lag" && Interlocked.Exchange(ref _observeAtLag, null) is { } observed)
                {
                    Listener.RecordObservableInstruments(); // in the probe's callback, on the loop thread
                    observed.TrySetResult();
                }
            }
        }

        public void Dispose() => Listener.Dispose();
    }
}
