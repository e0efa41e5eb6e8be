using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace Meanwhile.Benchmarks;

/// <summary>
/// Coordination on one loop (issue 16), each against .NET's own primitive used on the same loop: items passed between
/// two tasks through a bounded <see cref="LoopQueue{T}"/> or a bounded <see cref="Channel{T}"/>, one at a time or in
/// batches; lock and unlock with a contender, <see cref="LoopLock"/> against <c>SemaphoreSlim(1)</c>; and the memory a
/// blocked waiter costs. bench/coordination.sh runs them with the asyncio peers (bench/peers/coordination.py).
/// </summary>
internal static class CoordinationBenchmark
{
    public static int Queue(Options options)
    {
        string impl = options.Choice("impl", "meanwhile", "meanwhile", "channel");
        string mode = options.Choice("mode", "single", "single", "batch");
        long items = options.Integer("items", 2_000_000, 1);
        int capacity = (int)options.Integer("capacity", 256, 1);
        int batch = (int)options.Integer("batch", 32, 1);
        int runs = (int)options.Integer("runs", 7, 1);
        double warmupSeconds = options.Number("warmup-seconds", 2, 0);
        bool json = options.Flag("json");
        options.RejectUnknown();

        var measured = TimeRuns(loop => (impl, mode) switch
        {
            ("meanwhile", "single") => n => QueueSingle(loop, new LoopQueue<int>(capacity), n),
            ("meanwhile", _) => n => QueueBatch(loop, new LoopQueue<int>(capacity), n, batch),
            ("channel", "single") => n => ChannelSingle(loop, NewChannel(capacity), n),
            _ => n => ChannelBatch(loop, NewChannel(capacity), n, batch),
        }, items, runs, warmupSeconds);
        Report(json, "queue", impl, mode, items, measured, $"capacity {capacity}, batch {batch}");
        return 0;
    }

    public static int Lock(Options options)
    {
        string impl = options.Choice("impl", "meanwhile", "meanwhile", "semaphoreslim", "yield", "bare", "bare-awaiter");
        string hold = options.Choice("hold", "none", "none", "yield");
        long ops = options.Integer("ops", 1_000_000, 2);
        int runs = (int)options.Integer("runs", 7, 1);
        double warmupSeconds = options.Number("warmup-seconds", 2, 0);
        bool json = options.Flag("json");
        options.RejectUnknown();

        bool holdAcrossYield = hold == "yield";
        // Each contestant is awaited as its users write it: the lock's own awaitable, SemaphoreSlim's Task, the loop's
        // ValueTask yield.
        var measured = TimeRuns(loop => impl switch
        {
            "meanwhile" => n => ContendForLock(loop, n, holdAcrossYield, new LoopLock()),
            "semaphoreslim" => n => ContendForSemaphoreSlim(loop, n, holdAcrossYield, new SemaphoreSlim(1)),
            // Floors, to tell what a hand-off costs beyond a task switch: the same two tasks with no lock, each "acquisition"
            // a yield (a switch through the loop's ready queue), and two bare async methods passing a baton, no loop at all,
            // through a ValueTask and with an awaiter of its own.
            "yield" => n => ContendForYield(loop, n, holdAcrossYield),
            "bare-awaiter" => n => AwaiterBaton.Run(n),
            _ => n => Baton.Run(n),
        },
            ops, runs, warmupSeconds);
        Report(json, "lock", impl, hold, ops, measured,
            holdAcrossYield ? "two tasks, each holding the lock across a yield" : "two tasks taking turns: each acquisition waits for the other's release");
        return 0;
    }

    /// <summary>
    /// Bytes per blocked waiter: the wait alone (waits started from one task and left pending: what the primitive keeps
    /// per waiter), and a whole spawned task blocked on one (its task object and async state machine included).
    /// </summary>
    public static int Waiters(Options options)
    {
        string impl = options.Choice("impl", "meanwhile", "meanwhile", "semaphoreslim", "channel");
        int count = (int)options.Integer("count", 100_000, 1);
        bool json = options.Flag("json");
        options.RejectUnknown();

        double perWait = 0, perTask = 0;
        EventLoop.Run(async () =>
        {
            var loop = EventLoop.Current;
            await MeasureWaiters(loop, impl, 1_000); // warm: the JIT, and every type's first use
            (perWait, perTask) = await MeasureWaiters(loop, impl, count);
        });
        if (json)
        {
            Console.WriteLine(new Json().Add("bench", "waiters").Add("impl", impl).Add("n", count)
                .Add("bytes_per_wait", perWait).Add("bytes_per_task", perTask));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"waiters ({impl}): {count:N0} blocked: {perWait:F0} B per wait, {perTask:F0} B per blocked task"));
        }
        return 0;
    }

    private static async Task<(double PerWait, double PerTask)> MeasureWaiters(EventLoop loop, string impl, int count)
    {
        double perWait = impl switch
        {
            "meanwhile" => await LoopQueueGetters(loop, count),
            "semaphoreslim" => await SemaphoreWaits(loop, count),
            _ => await ChannelReads(loop, count),
        };
        // Whole tasks, each an async method blocked on one wait.
        var queue = new LoopQueue<int>();
        var semaphore = new SemaphoreSlim(0);
        var channel = Channel.CreateBounded<int>(1);
        Func<Task> body = impl switch
        {
            "meanwhile" => async () => await queue.GetAsync(),
            "semaphoreslim" => async () => await semaphore.WaitAsync(),
            _ => async () => await channel.Reader.ReadAsync(),
        };
        var tasks = new LoopTask[count];
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++) tasks[i] = loop.Spawn(body);
        await loop.Yield(); // every task has started and blocked
        double perTask = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)count;
        for (int i = 0; i < count; i++)
        {
            if (impl == "meanwhile") queue.TryPut(i);
            else if (impl == "semaphoreslim") semaphore.Release();
            else channel.Writer.TryWrite(i); // straight to a waiting reader
        }
        foreach (var task in tasks) await task;
        return (perWait, perTask);
    }

    private static async Task<double> LoopQueueGetters(EventLoop loop, int count)
    {
        var queue = new LoopQueue<int>();
        var gets = new ValueTask<int>[count];
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++) gets[i] = queue.GetAsync();
        double perWait = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)count;
        for (int i = 0; i < count; i++) queue.TryPut(i);
        foreach (var get in gets) await get;
        return perWait;
    }

    private static async Task<double> SemaphoreWaits(EventLoop loop, int count)
    {
        var semaphore = new SemaphoreSlim(0);
        var waits = new Task[count];
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++) waits[i] = semaphore.WaitAsync();
        double perWait = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)count;
        semaphore.Release(count);
        await loop.WhenAll(waits);
        return perWait;
    }

    private static async Task<double> ChannelReads(EventLoop loop, int count)
    {
        var channel = Channel.CreateBounded<int>(1);
        var reads = new ValueTask<int>[count];
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++) reads[i] = channel.Reader.ReadAsync();
        double perWait = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)count;
        for (int i = 0; i < count; i++) channel.Writer.TryWrite(i);
        foreach (var read in reads) await read;
        return perWait;
    }

    private static Channel<int> NewChannel(int capacity) =>
        Channel.CreateBounded<int>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    private static async Task QueueSingle(EventLoop loop, LoopQueue<int> queue, long items)
    {
        var consumer = loop.Spawn(async () =>
        {
            long sum = 0;
            for (long i = 0; i < items; i++) sum += await queue.GetAsync();
            return sum;
        });
        for (int i = 0; i < items; i++) await queue.PutAsync(i);
        await consumer;
    }

    private static async Task QueueBatch(EventLoop loop, LoopQueue<int> queue, long items, int batch)
    {
        var consumer = loop.Spawn(async () =>
        {
            var buffer = new int[batch];
            long got = 0;
            while (got < items) got += await queue.GetManyAsync(buffer);
            return got;
        });
        var block = new int[batch];
        for (long sent = 0; sent < items;)
        {
            int n = (int)Math.Min(batch, items - sent);
            for (int i = 0; i < n; i++) block[i] = (int)(sent + i);
            for (int done = 0; done < n;)
            {
                done += queue.TryPutMany(block.AsSpan(done, n - done));
                if (done < n) await queue.PutAsync(block[done++]); // full: wait for room for the next one
            }
            sent += n;
        }
        await consumer;
    }

    private static async Task ChannelSingle(EventLoop loop, Channel<int> channel, long items)
    {
        var consumer = loop.Spawn(async () =>
        {
            long sum = 0;
            for (long i = 0; i < items; i++) sum += await channel.Reader.ReadAsync();
            return sum;
        });
        for (int i = 0; i < items; i++) await channel.Writer.WriteAsync(i);
        await consumer;
    }

    private static async Task ChannelBatch(EventLoop loop, Channel<int> channel, long items, int batch)
    {
        var consumer = loop.Spawn(async () =>
        {
            var reader = channel.Reader;
            long got = 0;
            while (got < items)
            {
                if (!reader.TryRead(out _))
                {
                    await reader.WaitToReadAsync();
                    continue;
                }
                got++;
                for (int i = 1; i < batch && reader.TryRead(out _); i++) got++;
            }
            return got;
        });
        var writer = channel.Writer;
        for (int i = 0; i < items; i++)
        {
            while (!writer.TryWrite(i)) await writer.WaitToWriteAsync();
        }
        await consumer;
    }

    /// <summary>
    /// Two tasks take turns at the lock: the one holding it releases it (after a yield with <paramref name="holdAcrossYield"/>)
    /// and at once asks for it again, while the other waits for it; so every release hands the lock to a waiting task,
    /// and every acquisition waits. <paramref name="takeTurns"/> is that loop for one task, holding the lock on entry.
    /// </summary>
    private static async Task Contend(EventLoop loop, long ops, Func<Task> acquire, Func<long, Task> takeTurns)
    {
        await acquire();
        var other = loop.Spawn(async () =>
        {
            await acquire();
            await takeTurns(ops / 2 - 1);
        });
        await loop.Yield(); // the other task is waiting now
        await takeTurns(ops - ops / 2);
        await other;
    }

    private static Task ContendForLock(EventLoop loop, long ops, bool holdAcrossYield, LoopLock gate) =>
        Contend(loop, ops, async () => await gate.AcquireAsync(), async count =>
        {
            for (long i = 0; i < count; i++)
            {
                if (holdAcrossYield) await loop.Yield();
                gate.Release();
                await gate.AcquireAsync();
            }
            gate.Release();
        });

    private static Task ContendForSemaphoreSlim(EventLoop loop, long ops, bool holdAcrossYield, SemaphoreSlim gate) =>
        Contend(loop, ops, gate.WaitAsync, async count =>
        {
            for (long i = 0; i < count; i++)
            {
                if (holdAcrossYield) await loop.Yield();
                gate.Release();
                await gate.WaitAsync();
            }
            gate.Release();
        });

    /// <summary>The same two tasks with no lock: each "acquisition" is a yield, a switch through the loop's ready queue.</summary>
    private static Task ContendForYield(EventLoop loop, long ops, bool holdAcrossYield) =>
        Contend(loop, ops, () => Task.CompletedTask, async count =>
        {
            for (long i = 0; i < count; i++)
            {
                if (holdAcrossYield) await loop.Yield();
                await loop.Yield();
            }
        });

    /// <summary>On a new loop: warms <paramref name="make"/>'s body up for a while, then times <paramref name="runs"/> runs of <paramref name="n"/> operations.</summary>
    private static Runs TimeRuns(Func<EventLoop, Func<long, Task>> make, long n, int runs, double warmupSeconds)
    {
        var measured = new Runs([], [], []);
        EventLoop.Run(() => Repeat(make(EventLoop.Current), n, runs, warmupSeconds, measured));
        return measured;
    }

    /// <summary>
    /// Per run: operations per second of wall time; nanoseconds of process CPU time per operation, which a loaded
    /// machine disturbs much less than the rate (time other processes take is not counted); bytes allocated per operation.
    /// </summary>
    private sealed record Runs(List<double> Rates, List<double> CpuNanoseconds, List<double> Allocations);

    private static async Task Repeat(Func<long, Task> body, long n, int runs, double warmupSeconds, Runs measured)
    {
        long warmStart = Stopwatch.GetTimestamp();
        do await body(Math.Min(n, 200_000));
        while (Measure.Seconds(warmStart, Stopwatch.GetTimestamp()) < warmupSeconds);
        for (int run = 0; run < runs; run++)
        {
            GC.Collect();
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            var cpu = Environment.CpuUsage.TotalTime;
            long start = Stopwatch.GetTimestamp();
            await body(n);
            long end = Stopwatch.GetTimestamp();
            measured.CpuNanoseconds.Add((Environment.CpuUsage.TotalTime - cpu).TotalNanoseconds / n);
            measured.Rates.Add(n / Measure.Seconds(start, end));
            measured.Allocations.Add((GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)n);
        }
    }

    private static void Report(bool json, string bench, string impl, string mode, long n, Runs measured, string what)
    {
        double median = Measure.Median(measured.Rates);
        double cpu = Measure.Median(measured.CpuNanoseconds);
        double allocated = Measure.Median(measured.Allocations);
        if (json)
        {
            Console.WriteLine(new Json().Add("bench", bench).Add("impl", impl).Add("mode", mode).Add("n", n)
                .Add("rate", median).Add("rates", measured.Rates).Add("cpu_ns_per_op", cpu).Add("alloc_per_op", allocated));
            return;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{bench} ({impl}, {mode}; {what}): {n:N0} per run: median {median / 1e6:F2} M/s " +
            $"[{string.Join(", ", measured.Rates.Select(r => (r / 1e6).ToString("F2", CultureInfo.InvariantCulture)))}], " +
            $"{cpu:F1} ns CPU and {allocated:F1} B allocated per item"));
    }
}
