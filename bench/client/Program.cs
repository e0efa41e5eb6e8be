// Load generator for the client benchmarks (bench/client/run.sh drives it):
//   load <url> <client: meanwhile|system> <connections> <seconds>   keep-alive GETs, prints "req/s <n> alloc/req <bytes>"
//   cost <url> <client: meanwhile|system> <connections> <requests>  a fixed number of keep-alive GETs after a warm-up, prints
//                                                                    CPU time (user, system) and bytes allocated per request
//   many <url> <count> [rounds] [trace]                              <count> concurrent GETs on one loop, prints elapsed and peak memory;
//                                                                    each round with a new client (new connections) in the same process: the
//                                                                    first is cold (JIT), the next warm; with trace, when connects, sends and
//                                                                    responses happened (first, percentiles, last)
using System.Diagnostics;
using System.Runtime.InteropServices;
using Meanwhile;
using Meanwhile.Diagnostics;
using Meanwhile.Http;
using Meanwhile.Http.Client;

string mode = args.Length > 0 ? args[0] : "";
switch (mode)
{
    case "load" when args.Length == 5:
        Load(new Uri(args[1]), args[2], int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture), TimeSpan.FromSeconds(double.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture)));
        return 0;
    case "cost" when args.Length == 5:
        Cost(new Uri(args[1]), args[2], int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture), long.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case "many" when args.Length is >= 3 and <= 5:
    {
        int rounds = args.Length >= 4 && args[3] != "trace" ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1;
        bool trace = args[^1] == "trace";
        int status = 0;
        for (int round = 1; round <= rounds; round++)
        {
            Console.Write(rounds > 1 ? $"round {round} ({(round == 1 ? "cold" : "warm")}): " : "");
            GC.Collect();
            GC.WaitForPendingFinalizers();
            status |= Many(new Uri(args[1]), int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), trace);
        }

        return status;
    }
    default:
        Console.Error.WriteLine("usage: load <url> meanwhile|system <connections> <seconds> | cost <url> meanwhile|system <connections> <requests> | many <url> <count> [rounds] [trace]");
        return 2;
}

static void Load(Uri uri, string client, int connections, TimeSpan duration)
{
    // Warm up for a second (JIT, tiering, pools), then measure.
    var warm = Measure(uri, client, connections, TimeSpan.FromSeconds(1));
    var (requests, seconds, allocated) = Measure(uri, client, connections, duration);
    _ = warm;
    Console.WriteLine($"req/s {requests / seconds:0} alloc/req {(double)allocated / requests:0} requests {requests}");
}

// CPU per request is what a load generator costs, whatever else runs on the machine: a fixed number of requests, the
// process's user and system time (getrusage) and the allocations around them, after a warm-up of the same size.
static void Cost(Uri uri, string client, int connections, long requests)
{
    var warm = client == "system" ? CountSystem(uri, connections, requests) : CountMeanwhile(uri, connections, requests);
    _ = warm;
    var (before, allocatedBefore) = (Usage.Now(), GC.GetTotalAllocatedBytes(precise: true));
    var clock = Stopwatch.StartNew();
    long loopAllocated = client == "system" ? CountSystem(uri, connections, requests) : CountMeanwhile(uri, connections, requests);
    double seconds = clock.Elapsed.TotalSeconds;
    var (after, allocatedAfter) = (Usage.Now(), GC.GetTotalAllocatedBytes(precise: true));
    Console.WriteLine(
        $"user_us/req {(after.User - before.User) * 1e6 / requests:0.00} sys_us/req {(after.System - before.System) * 1e6 / requests:0.00} " +
        $"alloc/req {(double)(allocatedAfter - allocatedBefore) / requests:0} loop_alloc/req {(double)loopAllocated / requests:0} req/s {requests / seconds:0} requests {requests}");
}

// Sends exactly `requests` requests over `connections` connections; returns the bytes allocated on the loop thread.
static long CountMeanwhile(Uri uri, int connections, long requests)
{
    return EventLoop.Run(async () =>
    {
        await using var client = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = connections, AutomaticDecompression = false, UserAgent = null });
        var request = new LoopHttpRequest("GET", uri);
        var buffer = new byte[4096];
        long left = requests;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        async Task Worker()
        {
            while (left-- > 0)
            {
                using var response = await client.SendAsync(request);
                while (await response.Content.ReadAsync(buffer) > 0)
                {
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Worker()));
        return GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    });
}

static long CountSystem(Uri uri, int connections, long requests)
{
    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false, UseCookies = false });
    long left = requests;
    async Task Worker()
    {
        var local = new byte[4096];
        while (Interlocked.Decrement(ref left) >= 0)
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead);
            using var body = await response.Content.ReadAsStreamAsync();
            while (await body.ReadAsync(local) > 0)
            {
            }
        }
    }

    Task.WaitAll(Enumerable.Range(0, connections).Select(_ => Task.Run(Worker)).ToArray());
    return 0;
}

static (long Requests, double Seconds, long Allocated) Measure(Uri uri, string client, int connections, TimeSpan duration) =>
    client == "system" ? MeasureSystem(uri, connections, duration) : MeasureMeanwhile(uri, connections, duration);

static (long, double, long) MeasureMeanwhile(Uri uri, int connections, TimeSpan duration)
{
    return EventLoop.Run(async () =>
    {
        await using var client = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = connections, AutomaticDecompression = false, UserAgent = null });
        var request = new LoopHttpRequest("GET", uri);
        var buffer = new byte[4096];
        long count = 0;
        bool stop = false;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        async Task Worker()
        {
            while (!stop)
            {
                using var response = await client.SendAsync(request);
                while (await response.Content.ReadAsync(buffer) > 0)
                {
                }

                count++;
            }
        }

        var timer = EventLoop.Current.CallLater(duration, () => stop = true);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Worker()));
        double seconds = clock.Elapsed.TotalSeconds;
        return (count, seconds, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
    });
}

static (long, double, long) MeasureSystem(Uri uri, int connections, TimeSpan duration)
{
    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false, UseCookies = false });
    long count = 0;
    var stopAt = Stopwatch.StartNew();
    long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var buffer = new byte[4096];
    async Task Worker()
    {
        var local = new byte[4096];
        while (stopAt.Elapsed < duration)
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead);
            using var body = await response.Content.ReadAsStreamAsync();
            while (await body.ReadAsync(local) > 0)
            {
            }

            Interlocked.Increment(ref count);
        }
    }

    Task.WaitAll(Enumerable.Range(0, connections).Select(_ => Task.Run(Worker)).ToArray());
    double seconds = stopAt.Elapsed.TotalSeconds;
    return (count, seconds, GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore);
}

static int Many(Uri uri, int count, bool trace)
{
    return EventLoop.Run(async () =>
    {
        await using var client = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = count, ConnectTimeout = TimeSpan.FromSeconds(30) });
        var request = new LoopHttpRequest("GET", uri);
        var loop = EventLoop.Current;
        int failures = 0;
        var headsAt = new List<TimeSpan>(trace ? count : 0);
        var clock = Stopwatch.StartNew();
        if (trace)
        {
            loop.Recorder.Start();
        }

        async Task One()
        {
            try
            {
                using var response = await client.SendAsync(request);
                if (trace)
                {
                    headsAt.Add(clock.Elapsed);
                }

                await response.ReadAsBytesAsync();
                if (response.StatusCode != 200)
                {
                    failures++;
                }
            }
            catch (LoopHttpException e)
            {
                if (failures++ == 0)
                {
                    Console.Error.WriteLine(e.Message);
                }
            }
        }

        var cpuBefore = Usage.Now();
        var (gen0, gen1, gen2, paused) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        var spawned = Enumerable.Range(0, count).Select(_ => One()).ToArray();
        var allStarted = clock.Elapsed;
        var cpuCalls = Usage.Now();
        await Task.WhenAll(spawned);
        var elapsed = clock.Elapsed;
        var cpuAll = Usage.Now();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine($"requests {count} failures {failures} elapsed_s {elapsed.TotalSeconds:0.000} peak_working_set_mb {self.PeakWorkingSet64 / 1048576.0:0.0} gc_heap_mb {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:0.0}");
        if (trace)
        {
            // Recorder times count from its start, which is the clock's start give or take microseconds.
            loop.Recorder.Stop();
            Console.WriteLine($"  GCs: gen0 {GC.CollectionCount(0) - gen0}, gen1 {GC.CollectionCount(1) - gen1}, gen2 {GC.CollectionCount(2) - gen2}, paused {(GC.GetTotalPauseDuration() - paused).TotalSeconds:0.000} s");
            Console.WriteLine($"  {"calls made",-24} {allStarted.TotalSeconds:0.000} s (CPU: user {cpuCalls.User - cpuBefore.User:0.000} s, system {cpuCalls.System - cpuBefore.System:0.000} s; whole run: user {cpuAll.User - cpuBefore.User:0.000} s, system {cpuAll.System - cpuBefore.System:0.000} s)");
            foreach (var label in new[] { HttpMarks.Connect, HttpMarks.Connected, HttpMarks.RequestSent, HttpMarks.ResponseReceived })
            {
                Report(label, loop.Recorder.Events.Where(e => e.Kind == LoopEventKind.Mark && e.Label == label).Select(e => e.Time).ToList());
            }

            Report("SendAsync returned", headsAt);
        }

        return failures == 0 ? 0 : 1;
    });

    static void Report(string what, List<TimeSpan> times)
    {
        if (times.Count == 0)
        {
            Console.WriteLine($"  {what,-24} none");
            return;
        }

        times.Sort();
        string At(double q) => $"{times[(int)Math.Min(times.Count - 1, q * times.Count)].TotalSeconds:0.000}";
        Console.WriteLine($"  {what,-24} n {times.Count,6}  first {At(0)}  p10 {At(0.1)}  p50 {At(0.5)}  p90 {At(0.9)}  last {At(1)} s");
    }
}

/// <summary>The process's CPU time so far, from getrusage(RUSAGE_SELF).</summary>
internal static partial class Usage
{
    public static (double User, double System) Now()
    {
        if (!OperatingSystem.IsLinux())
        {
            using var self = Process.GetCurrentProcess();
            return (self.UserProcessorTime.TotalSeconds, self.PrivilegedProcessorTime.TotalSeconds);
        }

        var usage = new RUsage();
        if (GetRUsage(0, ref usage) != 0)
        {
            throw new InvalidOperationException("getrusage failed");
        }

        return (usage.UserSeconds + usage.UserMicroseconds / 1e6, usage.SystemSeconds + usage.SystemMicroseconds / 1e6);
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRUsage(int who, ref RUsage usage);

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long Rest0, Rest1, Rest2, Rest3, Rest4, Rest5, Rest6, Rest7, Rest8, Rest9, Rest10, Rest11, Rest12, Rest13;
    }
}
