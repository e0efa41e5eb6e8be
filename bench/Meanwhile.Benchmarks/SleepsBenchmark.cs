using System.Diagnostics;
using System.Globalization;

namespace Meanwhile.Benchmarks;

/// <summary>
/// N concurrent 1-second sleeps on the loop's timers: the wall time from the first spawn to the last wake-up,
/// and the memory they take (peak RSS and the managed heap while all of them are pending). One measurement per
/// process, so that the peak RSS belongs to it; the runner script repeats the process.
/// </summary>
internal static class SleepsBenchmark
{
    private static readonly TimeSpan SleepTime = TimeSpan.FromSeconds(1);
    private static EventLoop s_loop = null!;
    private static TimeSpan s_delay;
    private static long s_firstWake;
    private static long s_lastWake;
    private static readonly Func<Task> SleeperMethod = Sleeper;

    /// <summary>One sleeper: sleep, then note the time it woke up.</summary>
    private static async Task Sleeper()
    {
        await s_loop.Delay(s_delay);
        long now = Stopwatch.GetTimestamp();
        if (s_firstWake == 0) s_firstWake = now;
        s_lastWake = now;
    }

    public static int Run(Options options)
    {
        int count = (int)Math.Min(options.Integer("count", 1_000_000, 1), 100_000_000);
        string mode = options.Choice("mode", "spawn", "spawn", "direct", "timers");
        double warmupSeconds = options.Flag("no-warmup") ? 0 : options.Number("warmup-seconds", 5, 0);
        bool json = options.Flag("json");
        options.RejectUnknown();

        double wall = 0, armed = 0, firstWake = 0, lastWake = 0, allocPerSleep = 0;
        long heapArmed = 0, rssArmed = 0;
        int c0 = 0, c1 = 0, c2 = 0;
        long poolItems = 0;
        double gcPause = 0, gcPauseArming = 0;

        EventLoop.Run(async () =>
        {
            s_loop = EventLoop.Current;
            if (warmupSeconds > 0)
            {
                // Let tiered JIT optimize the paths (rounds of 10,000 one-millisecond sleeps), then start clean. Pinned
                // to one core, .NET sees one processor and multiplies its tiering delay by 10 (1 s, restarted by each
                // burst of first-tier compiling), so this takes seconds: after the former 0.3 s, the measured arming
                // still ran the unoptimized first-tier code of Delay and its timer (perf, DOTNET_JitDisasmSummary).
                s_delay = TimeSpan.FromMilliseconds(1);
                var warmStart = Stopwatch.GetTimestamp();
                while (Measure.Seconds(warmStart, Stopwatch.GetTimestamp()) < warmupSeconds) await SleepAll(mode, 10_000, null);
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
            }
            s_delay = SleepTime;
            s_firstWake = s_lastWake = 0;
            c0 = GC.CollectionCount(0); c1 = GC.CollectionCount(1); c2 = GC.CollectionCount(2);
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            long pool = ThreadPool.CompletedWorkItemCount;
            var pause0 = GC.GetTotalPauseDuration();
            long start = Stopwatch.GetTimestamp();
            long armedAt = 0;
            await SleepAll(mode, count, () =>
            {
                armedAt = Stopwatch.GetTimestamp();
                allocPerSleep = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)count;
                heapArmed = GC.GetTotalMemory(false);
                rssArmed = Measure.RssBytes();
                gcPauseArming = (GC.GetTotalPauseDuration() - pause0).TotalSeconds;
            });
            long end = Stopwatch.GetTimestamp();
            poolItems = ThreadPool.CompletedWorkItemCount - pool;
            gcPause = (GC.GetTotalPauseDuration() - pause0).TotalSeconds;
            if (s_lastWake == 0) s_lastWake = end; // timers mode: no sleeper body notes it
            if (s_firstWake == 0) s_firstWake = end;
            wall = Measure.Seconds(start, end);
            armed = Measure.Seconds(start, armedAt);
            firstWake = Measure.Seconds(start, s_firstWake);
            lastWake = Measure.Seconds(start, s_lastWake);
            c0 = GC.CollectionCount(0) - c0; c1 = GC.CollectionCount(1) - c1; c2 = GC.CollectionCount(2) - c2;
        });

        double peakMb = Measure.Megabytes(Measure.PeakRssBytes());
        if (json)
        {
            Console.WriteLine(new Json()
                .Add("bench", "sleeps").Add("impl", "meanwhile").Add("mode", mode).Add("n", count)
                .Add("wall_s", wall).Add("armed_s", armed).Add("first_wake_s", firstWake).Add("last_wake_s", lastWake)
                .Add("peak_rss_mb", peakMb).Add("rss_armed_mb", Measure.Megabytes(rssArmed)).Add("heap_armed_mb", Measure.Megabytes(heapArmed))
                .Add("warmup_s", warmupSeconds).Add("alloc_per_sleep", allocPerSleep).Add("gen0", c0).Add("gen1", c1).Add("gen2", c2).Add("gc_pause_s", gcPause).Add("gc_pause_arming_s", gcPauseArming).Add("threadpool_items_per_sleep", poolItems / (double)count));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sleeps ({mode}, after {warmupSeconds:F1} s of warm-up): {count:N0} x 1 s: wall {wall:F3} s (all armed at {armed:F3} s, first wake {firstWake:F3} s, last wake {lastWake:F3} s), " +
                $"peak RSS {peakMb:F1} MB, while pending: RSS {Measure.Megabytes(rssArmed):F1} MB, managed heap {Measure.Megabytes(heapArmed):F1} MB, " +
                $"{allocPerSleep:F0} B allocated/sleep, GCs gen0 {c0} gen1 {c1} gen2 {c2} (GC pauses {gcPause:F3} s, {gcPauseArming:F3} s of them while arming), " +
                $"{poolItems / (double)count:F2} thread-pool work items/sleep"));
        }
        return 0;
    }

    /// <summary>Starts <paramref name="count"/> sleeps, calls <paramref name="armed"/> once all are pending, waits for all.</summary>
    private static async Task SleepAll(string mode, int count, Action? armed)
    {
        var loop = s_loop;
        switch (mode)
        {
            case "spawn":
                {
                    var tasks = new LoopTask[count];
                    for (int i = 0; i < count; i++) tasks[i] = loop.Spawn(SleeperMethod);
                    await loop.Yield(); // the spawned tasks start (and arm their timers) on this turn, before we resume
                    armed?.Invoke();
                    for (int i = 0; i < count; i++) await tasks[i];
                    break;
                }
            case "direct":
                {
                    var tasks = new Task[count];
                    for (int i = 0; i < count; i++) tasks[i] = Sleeper();
                    armed?.Invoke();
                    await loop.WhenAll(tasks); // like asyncio.gather and Promise.all
                    break;
                }
            default:
                {
                    var delays = new ValueTask[count];
                    for (int i = 0; i < count; i++) delays[i] = loop.Delay(s_delay);
                    armed?.Invoke();
                    for (int i = 0; i < count; i++) await delays[i];
                    break;
                }
        }
    }
}
