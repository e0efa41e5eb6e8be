// Load generator for the client benchmarks (bench/client/run.sh drives it):
//   load <url> <client: meanwhile|system> <connections> <seconds>   keep-alive GETs once warm (see Warmth), prints "req/s <n> alloc/req <bytes>"
//   cost <url> <client: meanwhile|system> <connections> <requests>  a fixed number of keep-alive GETs once warm, prints
//                                                                    CPU time (user, system) and bytes allocated per request
//   many <url> <count> [rounds] [trace]                              <count> concurrent GETs on one loop, prints elapsed and peak memory;
//                                                                    each round with a new client (new connections) in the same process: the
//                                                                    first is cold (JIT), the next warm; with trace, when connects, sends and
//                                                                    responses happened (first, percentiles, last)
using System.Diagnostics;
using System.Runtime.InteropServices;
using Meanwhile;
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
    var run = client == "system" ? RunSystem(uri, connections, duration, null) : RunMeanwhile(uri, connections, duration, null);
    // cpu_busy: the process's CPU time over the wall time; near 1 when the generator's core is what limits it.
    Console.WriteLine($"req/s {run.Requests / run.Seconds:0} alloc/req {(double)run.Allocated / run.Requests:0} requests {run.Requests} warmup_s {run.WarmUpSeconds:0.0} cpu_busy {(run.UserSeconds + run.SystemSeconds) / run.Seconds:0.00}");
}

// CPU per request is what a load generator costs, whatever else runs on the machine: a fixed number of requests once
// warm, the process's user and system time (getrusage) and the allocations over them.
static void Cost(Uri uri, string client, int connections, long requests)
{
    var run = client == "system" ? RunSystem(uri, connections, null, requests) : RunMeanwhile(uri, connections, null, requests);
    Console.WriteLine(
        $"user_us/req {run.UserSeconds * 1e6 / run.Requests:0.00} sys_us/req {run.SystemSeconds * 1e6 / run.Requests:0.00} " +
        $"alloc/req {(double)run.Allocated / run.Requests:0} loop_alloc/req {(double)run.LoopAllocated / run.Requests:0} req/s {run.Requests / run.Seconds:0} requests {run.Requests} warmup_s {run.WarmUpSeconds:0.0}");
}

// Keep-alive GETs over `connections` connections, without pause, on one client; measured from the moment the JIT is
// done (see Warmth) for `duration`, or for `requests` requests.
static Window RunMeanwhile(Uri uri, int connections, TimeSpan? duration, long? requests)
{
    return EventLoop.Run(async () =>
    {
        await using var client = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = connections, AutomaticDecompression = false, UserAgent = null });
        var request = new LoopHttpRequest("GET", uri);
        var loop = EventLoop.Current;
        var buffer = new byte[4096];
        var warmth = new Warmth();
        long count = 0;
        long stopAt = long.MaxValue;
        bool stop = false;
        Snapshot? start = null;
        async Task Worker()
        {
            while (!stop)
            {
                using var response = await client.SendAsync(request);
                while (await response.Content.ReadAsync(buffer) > 0)
                {
                }

                if (++count >= stopAt)
                {
                    stop = true;
                }
            }
        }

        void Check()
        {
            if (!warmth.IsWarm())
            {
                loop.CallLater(Warmth.CheckEvery, Check);
                return;
            }

            start = Snapshot.Take(count, warmth);
            if (requests is long n)
            {
                stopAt = count + n;
            }
            else
            {
                loop.CallLater(duration!.Value, () => stop = true);
            }
        }

        loop.CallLater(Warmth.CheckEvery, Check);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Worker()));
        return Snapshot.Take(count, warmth) - start!.Value;
    });
}

static Window RunSystem(Uri uri, int connections, TimeSpan? duration, long? requests)
{
    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false, UseCookies = false });
    var warmth = new Warmth();
    long count = 0;
    long stopAt = long.MaxValue;
    bool stop = false;
    async Task Worker()
    {
        var local = new byte[4096];
        while (!Volatile.Read(ref stop))
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead);
            using var body = await response.Content.ReadAsStreamAsync();
            while (await body.ReadAsync(local) > 0)
            {
            }

            if (Interlocked.Increment(ref count) >= Volatile.Read(ref stopAt))
            {
                Volatile.Write(ref stop, true);
            }
        }
    }

    var workers = Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(Worker)).ToArray());
    while (!warmth.IsWarm())
    {
        Thread.Sleep(Warmth.CheckEvery); // the bench's own pacing, on a thread that does no requests
    }

    var start = Snapshot.Take(Interlocked.Read(ref count), warmth);
    if (requests is long n)
    {
        Volatile.Write(ref stopAt, start.Requests + n);
    }
    else
    {
        Thread.Sleep(duration!.Value);
        Volatile.Write(ref stop, true);
    }

    workers.Wait();
    return Snapshot.Take(Interlocked.Read(ref count), warmth) - start;
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
            foreach (var label in new[] { ClientMarks.Connect, ClientMarks.Connected, ClientMarks.RequestSent, ClientMarks.ResponseReceived })
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

/// <summary>
/// Whether the JIT is done: a load generator runs for minutes, so what it costs is its steady state, and a run is
/// measured once the JIT has compiled nothing for two seconds. Pinned to one core (taskset), the runtime sees one
/// processor and waits ten times longer before it counts calls for tier-up (TC_CallCountingDelayMs x
/// TC_DelaySingleProcMultiplier = 1 s, restarted by every new tier-0 method, and again for the instrumented tier): the
/// fixed warm-ups this replaced (one second; 300,000 requests) left the client running tier-0 code well into the
/// measurement, at up to twice its steady user time per request.
/// </summary>
internal sealed class Warmth
{
    public static readonly TimeSpan CheckEvery = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan QuietFor = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan AtMost = TimeSpan.FromSeconds(60);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
    private TimeSpan _lastCompile;

    public double Seconds => _clock.Elapsed.TotalSeconds;

    public bool IsWarm()
    {
        long now = System.Runtime.JitInfo.GetCompiledMethodCount();
        if (now != _compiled)
        {
            _compiled = now;
            _lastCompile = _clock.Elapsed;
        }

        return _clock.Elapsed - _lastCompile >= QuietFor || _clock.Elapsed >= AtMost;
    }
}

/// <summary>What a run measured between two snapshots.</summary>
internal readonly record struct Window(long Requests, double Seconds, double UserSeconds, double SystemSeconds, long Allocated, long LoopAllocated, double WarmUpSeconds);

/// <summary>Requests done, time, CPU time and allocations at one moment of a run.</summary>
internal readonly record struct Snapshot(long Requests, double At, double User, double System, long Allocated, long LoopAllocated)
{
    public static Snapshot Take(long requests, Warmth warmth)
    {
        var (user, system) = Usage.Now();
        return new(requests, warmth.Seconds, user, system, GC.GetTotalAllocatedBytes(precise: true), GC.GetAllocatedBytesForCurrentThread());
    }

    public static Window operator -(Snapshot end, Snapshot start) =>
        new(end.Requests - start.Requests, end.At - start.At, end.User - start.User, end.System - start.System,
            end.Allocated - start.Allocated, end.LoopAllocated - start.LoopAllocated, start.At);
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
