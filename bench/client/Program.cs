// Load generator for the client benchmarks (bench/client/run.sh drives it):
//   load <url> <client: meanwhile|system> <connections> <seconds>   keep-alive GETs, prints "req/s <n> alloc/req <bytes>"
//   many <url> <count>                                               <count> concurrent GETs on one loop, prints elapsed and peak memory
using System.Diagnostics;
using Meanwhile;
using Meanwhile.Http.Client;

string mode = args.Length > 0 ? args[0] : "";
switch (mode)
{
    case "load" when args.Length == 5:
        Load(new Uri(args[1]), args[2], int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture), TimeSpan.FromSeconds(double.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture)));
        return 0;
    case "many" when args.Length == 3:
        return Many(new Uri(args[1]), int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    default:
        Console.Error.WriteLine("usage: load <url> meanwhile|system <connections> <seconds> | many <url> <count>");
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

static int Many(Uri uri, int count)
{
    return EventLoop.Run(async () =>
    {
        await using var client = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = count, ConnectTimeout = TimeSpan.FromSeconds(30) });
        var request = new LoopHttpRequest("GET", uri);
        int failures = 0;
        var clock = Stopwatch.StartNew();
        async Task One()
        {
            try
            {
                using var response = await client.SendAsync(request);
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

        await Task.WhenAll(Enumerable.Range(0, count).Select(_ => One()));
        var elapsed = clock.Elapsed;
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine($"requests {count} failures {failures} elapsed_s {elapsed.TotalSeconds:0.000} peak_working_set_mb {self.PeakWorkingSet64 / 1048576.0:0.0} gc_heap_mb {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:0.0}");
        return failures == 0 ? 0 : 1;
    });
}
