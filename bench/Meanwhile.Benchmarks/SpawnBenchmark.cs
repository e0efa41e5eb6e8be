using System.Diagnostics;
using System.Globalization;

namespace Meanwhile.Benchmarks;

/// <summary>
/// Tasks spawned, yielded once and completed per second on one loop. Tasks are spawned a batch at a time and
/// the batch is awaited before the next, so memory stays flat; the rate is the median of several runs after a
/// timed warm-up (tiered JIT and PGO settle during it).
/// </summary>
internal static class SpawnBenchmark
{
    private static EventLoop s_loop = null!;
    private static readonly Func<Task> Work = YieldOnce;

    /// <summary>The task body: give the others a turn once, then finish.</summary>
    private static async Task YieldOnce() => await s_loop.Yield();

    public static int Run(Options options)
    {
        long tasks = options.Integer("tasks", 2_000_000, 1);
        int runs = (int)options.Integer("runs", 7, 1);
        int batch = (int)Math.Min(options.Integer("batch", 10_000, 1), 1 << 24);
        double warmupSeconds = options.Number("warmup-seconds", 3, 0);
        bool json = options.Flag("json");
        options.RejectUnknown();

        var rates = new List<double>();
        var allocPerTask = new List<double>();
        var gen0 = new List<double>();
        var gen1 = new List<double>();
        var gen2 = new List<double>();
        var poolItems = new List<double>();
        var gcShare = new List<double>();
        var faults = new List<double>();

        EventLoop.Run(async () =>
        {
            s_loop = EventLoop.Current;
            var buffer = new LoopTask[batch];
            // Tiered JIT needs a few seconds of this loop, on one core, before the hot paths run fully optimized
            // (the first runs go at half speed): warm up by time, not by count.
            long warmStart = Stopwatch.GetTimestamp();
            while (Measure.Seconds(warmStart, Stopwatch.GetTimestamp()) < warmupSeconds) await SpawnMany(Math.Min(tasks, 1_000_000), buffer);
            for (int run = 0; run < runs; run++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                long faultsBefore = Measure.MinorFaults(); // read first and last: its own allocation stays out of the count
                int c0 = GC.CollectionCount(0), c1 = GC.CollectionCount(1), c2 = GC.CollectionCount(2);
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                long pool = ThreadPool.CompletedWorkItemCount;
                var pause = GC.GetTotalPauseDuration();
                long start = Stopwatch.GetTimestamp();
                await SpawnMany(tasks, buffer);
                long end = Stopwatch.GetTimestamp();
                allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
                faults.Add(Measure.MinorFaults() - faultsBefore);
                gcShare.Add((GC.GetTotalPauseDuration() - pause).TotalSeconds / Measure.Seconds(start, end));
                poolItems.Add((ThreadPool.CompletedWorkItemCount - pool) / (double)tasks);
                rates.Add(tasks / Measure.Seconds(start, end));
                allocPerTask.Add(allocated / (double)tasks);
                gen0.Add(GC.CollectionCount(0) - c0);
                gen1.Add(GC.CollectionCount(1) - c1);
                gen2.Add(GC.CollectionCount(2) - c2);
            }
        });

        double median = Measure.Median(rates);
        double peakMb = Measure.Megabytes(Measure.PeakRssBytes());
        if (json)
        {
            Console.WriteLine(new Json()
                .Add("bench", "spawn").Add("impl", "meanwhile").Add("n", tasks).Add("batch", batch).Add("runs", runs)
                .Add("rate", median).Add("rates", rates)
                .Add("alloc_per_task", Measure.Median(allocPerTask))
                .Add("gen0", Measure.Median(gen0)).Add("gen1", Measure.Median(gen1)).Add("gen2", Measure.Median(gen2))
                .Add("gc_pause_share", Measure.Median(gcShare)).Add("minor_faults", Measure.Median(faults)).Add("threadpool_items_per_task", Measure.Median(poolItems))
                .Add("peak_rss_mb", peakMb));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"spawn: {tasks:N0} tasks x {runs} runs (batches of {batch:N0}): median {median / 1e6:F2} M tasks/s " +
                $"[{string.Join(", ", rates.Select(r => (r / 1e6).ToString("F2", CultureInfo.InvariantCulture)))}], " +
                $"{Measure.Median(allocPerTask):F0} B allocated/task, gen0 {Measure.Median(gen0)} gen1 {Measure.Median(gen1)} gen2 {Measure.Median(gen2)} per run, " +
                $"{Measure.Median(gcShare) * 100:F0}% of the time in GC pauses, {Measure.Median(faults):F0} minor page faults per run, {Measure.Median(poolItems):F2} thread-pool work items/task, peak RSS {peakMb:F1} MB"));
        }
        return 0;
    }

    private static async Task SpawnMany(long total, LoopTask[] buffer)
    {
        var loop = s_loop;
        for (long left = total; left > 0;)
        {
            int n = (int)Math.Min(left, buffer.Length);
            for (int i = 0; i < n; i++) buffer[i] = loop.Spawn(Work);
            for (int i = 0; i < n; i++)
            {
                await buffer[i];
                buffer[i] = null!;
            }
            left -= n;
        }
    }
}
