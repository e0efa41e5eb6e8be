// A client with retries and timeouts against the project's HTTP server, on a simulated network: 1-20 ms of jitter,
// 1% loss, and a partition between client and server from 2 s to 6 s of virtual time, which then heals. Everything
// runs on one thread in virtual time, and every choice comes from the seed: the same seed prints the same trace.
//
//   dotnet run --project examples/Simulation -- --seed N            the scenario: prints "trace: <hex>" and the outcome
//   dotnet run --project examples/Simulation -- --scale N            N concurrent requests, answered after 1 virtual second
//   dotnet run --project examples/Simulation -- --messages N         N small messages over one simulated stream
using System.Diagnostics;
using System.Net;
using Meanwhile;
using Meanwhile.Http.Client;
using Meanwhile.Http.Server;

string mode = args.Length > 0 ? args[0] : "--seed";
long value = args.Length > 1 && long.TryParse(args[1], out long parsed) ? parsed : -1;
switch (mode)
{
    case "--seed":
        return Scenario(value < 0 ? 1 : value);
    case "--scale":
        Scale(1_000, "warm-up"); // the measured runs should not pay for the JIT
        // First: the first run of its size in the process, whose memory is nearly all fresh pages. Again: the same run
        // once more, as a test suite runs one simulation after another (the GC has given most of the first run's memory
        // back by then: it faults as much, and its survivors cost a gen2 collection).
        int first = Scale(value < 0 ? 10_000 : (int)value, "first");
        return Scale(value < 0 ? 10_000 : (int)value, "again") | first;
    case "--messages":
        Messages(100_000, quiet: true);
        return Messages(value < 0 ? 1_000_000 : (int)value);
    default:
        Console.Error.WriteLine($"unknown option '{mode}': use --seed N, --scale N or --messages N");
        return 2;
}

// A backlog as a busy server sets it: the default (511) would drop most of ten thousand simultaneous SYNs, as Linux does.
// Small buffers: ten thousand requests held at once would otherwise hold 80 KiB of buffers each.
static Func<CancellationToken, Task> Server(RequestHandler handler) => cancellationToken =>
    HttpServer.ServeAsync(StreamListener.ListenTcp(new IPEndPoint(IPAddress.Any, 80), new ListenOptions { Backlog = 65535 }), handler,
        new HttpServerOptions { ReadBufferBytes = 4096, ResponseBufferBytes = 4096 }, cancellationToken);

static int Scenario(long seed)
{
    var simulation = new Simulation(seed, new SimulationOptions
    {
        Link = new LinkOptions { Latency = LatencyDistribution.Uniform(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(20)), Loss = 0.01 },
    });
    simulation.AddHost("web", Server((request, response) =>
    {
        response.Write(request.Path);
        return ValueTask.CompletedTask;
    }));
    int firstTry = 0, afterRetries = 0, failed = 0;
    var outcomes = new List<string>();
    SimulationResult result;
    try
    {
        result = simulation.Run(async () =>
        {
            var loop = EventLoop.Current;
            loop.CallLater(TimeSpan.FromSeconds(2), () => simulation.Partition("client", "web"));
            loop.CallLater(TimeSpan.FromSeconds(6), () => simulation.Repair("client", "web"));
            await using var http = new LoopHttpClient(new LoopHttpClientOptions { ConnectTimeout = TimeSpan.FromSeconds(1), RequestTimeout = TimeSpan.FromSeconds(1) });
            for (int i = 0; i < 20; i++)
            {
                for (int attempt = 1; ; attempt++)
                {
                    try
                    {
                        await http.GetStringAsync($"http://web/item/{i}");
                        if (attempt == 1) firstTry++;
                        else afterRetries++;
                        break;
                    }
                    catch (Exception e) when (e is LoopHttpException or SystemCallException)
                    {
                        if (attempt == 5)
                        {
                            failed++;
                            outcomes.Add($"item {i}: {e.Message}");
                            break;
                        }
                        await loop.Delay(TimeSpan.FromMilliseconds(250 * attempt)); // back off, then try again
                    }
                }
                await loop.Delay(TimeSpan.FromMilliseconds(500));
            }
        });
    }
    catch (SimulationFailedException e)
    {
        Console.WriteLine($"failed: {e.InnerException?.Message}");
        Console.WriteLine($"replay: dotnet run --project examples/Simulation -- --seed {e.Seed}");
        return 1;
    }
    Console.WriteLine($"trace: {result.Trace}");
    Console.WriteLine($"outcome: 20 requests, {firstTry} answered at once, {afterRetries} after retries, {failed} failed; " +
        $"{result.Events} network events, {result.Elapsed.TotalSeconds:0.###} s virtual");
    foreach (var outcome in outcomes) Console.WriteLine($"  {outcome}");
    return failed == 0 ? 0 : 1;
}

// The seed's scenario at scale: N clients at once against a server that answers each after one virtual second.
static int Scale(int requests, string run)
{
    var simulation = new Simulation(1);
    simulation.AddHost("web", Server(async (request, response) =>
    {
        await EventLoop.Current.Delay(TimeSpan.FromSeconds(1));
        response.Write("done"u8);
    }));
    int answered = 0;
    long faultsBefore = MinorFaults();
    var gcBefore = GcCounts.Read();
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    var result = simulation.Run(async () =>
    {
        var loop = EventLoop.Current;
        await using var http = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = requests, ReceiveBufferSize = 1024 });
        var tasks = new LoopTask[requests];
        for (int i = 0; i < requests; i++)
            tasks[i] = loop.Spawn(async () =>
            {
                if (await http.GetStringAsync("http://web/slow") == "done") answered++;
            });
        foreach (var task in tasks) await task;
    });
    wall.Stop();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
    var gc = GcCounts.Read() - gcBefore;
    long faults = MinorFaults() - faultsBefore;
    if (run != "warm-up") Console.WriteLine($"scale ({run}): {requests} concurrent requests, {answered} answered, {result.Elapsed.TotalSeconds:0.###} s virtual, " +
        $"{wall.Elapsed.TotalSeconds:0.###} s wall, {cpu.TotalSeconds:0.###} s CPU, {result.Events} network events, trace {result.Trace}; " +
        $"{gc.PerOperation(requests, "request")}, {faults} minor page faults");
    return answered == requests ? 0 : 1;
}

// Simulated stream throughput: N messages of 32 bytes written one by one over one connection, read on the other host.
static int Messages(int count, bool quiet = false)
{
    var simulation = new Simulation(1, new SimulationOptions { Link = new LinkOptions { Latency = LatencyDistribution.Zero } });
    const int size = 32;
    long received = 0;
    var gcBefore = GcCounts.Read();
    simulation.AddHost("sink", async cancellationToken =>
    {
        await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Any, 9));
        await using var connection = await listener.AcceptAsync(cancellationToken);
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await connection.ReadAsync(buffer, cancellationToken)) > 0) received += n;
        await connection.WriteAsync(BitConverter.GetBytes(received), cancellationToken);
    });
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    var result = simulation.Run(async () =>
    {
        await using var connection = await SocketStream.ConnectAsync("sink", 9);
        var message = new byte[size];
        for (int i = 0; i < count; i++) await connection.WriteAsync(message);
        connection.ShutdownWrite();
        await connection.ReadAsync(new byte[8]); // the sink's count, once it has read everything
    });
    wall.Stop();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
    if (!quiet) Console.WriteLine($"messages: {count} messages of {size} bytes in {wall.Elapsed.TotalSeconds:0.###} s wall, {cpu.TotalSeconds:0.###} s CPU: " +
        $"{count / wall.Elapsed.TotalSeconds / 1e6:0.00} M messages/s wall, {count / cpu.TotalSeconds / 1e6:0.00} M per CPU second ({result.Events} network events, trace {result.Trace}); " +
        $"{(GcCounts.Read() - gcBefore).PerOperation(count, "message")}");
    return received == (long)count * size ? 0 : 1;
}

// Minor page faults of the process so far (field 10 of /proc/self/stat), or 0 where there is none: the first touch of a
// fresh page costs microseconds on some VMs (bench/gc/pagefault.c), and nearly all of a cold scale run's memory is fresh.
static long MinorFaults()
{
    try
    {
        string stat = File.ReadAllText("/proc/self/stat");
        // The command name (field 2) may hold spaces: count the fields after its closing parenthesis (field 3 is the state).
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[10 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }
    catch (IOException)
    {
        return 0;
    }
}

// What the garbage collector did during a run: bytes allocated (all threads) and collections by generation.
internal readonly record struct GcCounts(long AllocatedBytes, int Gen0, int Gen1, int Gen2)
{
    public static GcCounts Read() => new(GC.GetTotalAllocatedBytes(precise: true), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

    public static GcCounts operator -(GcCounts a, GcCounts b) => new(a.AllocatedBytes - b.AllocatedBytes, a.Gen0 - b.Gen0, a.Gen1 - b.Gen1, a.Gen2 - b.Gen2);

    public string PerOperation(long operations, string unit) =>
        $"{(double)AllocatedBytes / operations:0} B allocated per {unit}, collections of gen 0/1/2: {Gen0}/{Gen1}/{Gen2}";
}
