using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Meanwhile.Benchmarks;

/// <summary>
/// Memory per idle open TCP connection (issue 3: goal at most 1 KiB with 10,000 open). The server accepts N
/// connections from a client in another process, each held by a task that awaits a zero-byte read (the idle
/// pattern: no buffer held), then reports the growth of RSS (VmRSS, as it stands: no forced collection, which would
/// itself commit fresh regions) and of the live managed heap (after full blocking collections), divided by N. Before
/// the baseline the server runs the same path on connections of its own in several rounds a second apart: the
/// runtime recompiles hot methods only after counting calls past a delay, and the JIT's code and scratch memory (MBs)
/// would otherwise land in the delta (docs/benchmarks.md, HTTP server, idle memory).
/// </summary>
internal static class IdleConnectionsBenchmark
{
    private const int WarmupConnections = 1000;
    private const int WarmupRounds = 3;

    /// <summary>
    /// idle-server --impl meanwhile|socket [--count N] [--hold task|read|stream] [--port-file F] [--json].
    /// --hold (Meanwhile only) takes the cost apart: task (the default) is the pattern measured, a spawned task per
    /// connection awaiting a zero-byte read; read is a pending zero-byte read with no task around it; stream is the
    /// accepted stream alone, nothing waiting on it.
    /// </summary>
    public static int Server(Options options)
    {
        string impl = options.Choice("impl", "meanwhile", "meanwhile", "socket");
        int count = (int)options.Integer("count", 10_000, 1);
        string? portFile = options.Text("port-file");
        string hold = options.Choice("hold", "task", "task", "read", "stream");
        bool json = options.Flag("json");
        options.RejectUnknown();
        if (impl != "meanwhile" && hold != "task") throw new ArgumentException("--hold is for --impl meanwhile");

        Sample before, after;
        string reactor;
        if (impl == "meanwhile")
        {
            (before, after, reactor) = EventLoop.Run(() => MeanwhileServer(count, hold, portFile));
        }
        else
        {
            (before, after) = SocketServer(count, portFile).GetAwaiter().GetResult();
            reactor = "-";
        }

        double rssPer = (after.Rss - before.Rss) / (double)count;
        double heapPer = (after.Heap - before.Heap) / (double)count;
        string label = impl == "meanwhile" ? $"meanwhile-{reactor}" + (hold == "task" ? "" : $"-{hold}") : "dotnet-socket";
        if (json)
        {
            Console.WriteLine(new Json().Add("bench", "idle-connections").Add("impl", label).Add("count", count)
                .Add("rss_before_mb", Measure.Megabytes(before.Rss)).Add("rss_after_mb", Measure.Megabytes(after.Rss))
                .Add("heap_before_mb", Measure.Megabytes(before.Heap)).Add("heap_after_mb", Measure.Megabytes(after.Heap))
                .Add("committed_before_mb", Measure.Megabytes(before.Committed)).Add("committed_after_mb", Measure.Megabytes(after.Committed))
                .Add("rss_per_conn", rssPer).Add("heap_per_conn", heapPer));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"idle connections {label}: {count} open: RSS {Measure.Megabytes(before.Rss):F1} -> {Measure.Megabytes(after.Rss):F1} MB ({rssPer:F0} B per connection), " +
                $"managed heap {Measure.Megabytes(before.Heap):F2} -> {Measure.Megabytes(after.Heap):F2} MB ({heapPer:F0} B per connection)"));
        }
        return 0;
    }

    /// <summary>VmRSS, live managed heap, and memory the GC has committed (live objects plus its free space and budget).</summary>
    private readonly record struct Sample(long Rss, long Heap, long Committed);

    /// <summary>The live heap after full, blocking, compacting collections (twice, with finalizers in between), and what the GC has committed.</summary>
    private static (long Heap, long Committed) TakeHeap()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return (GC.GetTotalMemory(forceFullCollection: true), GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes);
    }

    /// <summary>
    /// Runs <paramref name="warmUp"/> between a first heap reading and the RSS baseline, then <paramref name="fill"/>
    /// between the baseline and the RSS reading, then reads the heap again. RSS is never read after a forced
    /// collection: compacting commits fresh regions, which would count as connections' memory.
    /// </summary>
    private static async Task<(Sample Before, Sample After)> MeasureAround(Func<Task> warmUp, Func<Task> fill)
    {
        var heapBefore = TakeHeap();
        await warmUp();
        long rssBefore = Measure.RssBytes();
        await fill();
        long rssAfter = Measure.RssBytes();
        var heapAfter = TakeHeap();
        return (new Sample(rssBefore, heapBefore.Heap, heapBefore.Committed), new Sample(rssAfter, heapAfter.Heap, heapAfter.Committed));
    }

    private static async Task<(Sample, Sample, string)> MeanwhileServer(int count, string hold, string? portFile)
    {
        var loop = EventLoop.Current;
        await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
        var held = new List<SocketStream>(count);
        // The harness's own lists (8 B per connection each) are allocated before the baseline.
        var tasks = new List<LoopTask>(hold == "task" ? count : 0);
        var reads = new List<ValueTask<int>>(hold == "read" ? count : 0);

        var (before, after) = await MeasureAround(WarmUp, Fill);
        int waiting = hold == "task" ? tasks.Count(t => !t.IsCompleted) : hold == "read" ? reads.Count(r => !r.IsCompleted) : count;
        if (waiting != count) throw new InvalidOperationException($"only {waiting} of {count} connections were still waiting");
        foreach (var connection in held) await connection.DisposeAsync();
        return (before, after, loop.ReactorName);

        // The whole path (connect, accept, spawn, a zero-byte read that waits, EOF, close), from this loop.
        async Task WarmUp()
        {
            for (int i = 0; i < WarmupConnections * WarmupRounds; i++)
            {
                if (i > 0 && i % WarmupConnections == 0) await loop.Delay(TimeSpan.FromSeconds(1)); // let tiering catch up
                var client = await SocketStream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.Port));
                var server = await listener.AcceptAsync();
                var waiter = loop.Spawn(() => WaitIdle(server));
                await loop.Yield();
                await client.DisposeAsync();
                await waiter;
                await server.DisposeAsync();
                // The zero-byte read with no task around it, for --hold read.
                client = await SocketStream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.Port));
                server = await listener.AcceptAsync();
                var read = server.ReadAsync(Memory<byte>.Empty);
                await client.DisposeAsync();
                await read;
                await server.DisposeAsync();
            }
            await loop.Delay(TimeSpan.FromSeconds(1));
        }

        async Task Fill()
        {
            EchoBenchmark.AnnouncePort(portFile, listener.Port, $"meanwhile idle-connection server ({loop.ReactorName}, hold {hold})");
            for (int i = 0; i < count; i++)
            {
                var connection = await listener.AcceptAsync();
                held.Add(connection);
                if (hold == "task") tasks.Add(loop.Spawn(() => WaitIdle(connection)));
                else if (hold == "read") reads.Add(connection.ReadAsync(Memory<byte>.Empty));
            }
            await loop.Delay(TimeSpan.FromMilliseconds(500)); // every task reaches its wait
        }
    }

    /// <summary>The idle-connection pattern: wait for data with no buffer (a zero-byte read).</summary>
    private static async Task WaitIdle(SocketStream connection)
    {
        try { await connection.ReadAsync(Memory<byte>.Empty); }
        catch (ObjectDisposedException) { }
        catch (IOException) { }
    }

    private static async Task<(Sample, Sample)> SocketServer(int count, string? portFile)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(511);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var held = new List<Socket>(count);
        var tasks = new List<Task>(count);

        var (before, after) = await MeasureAround(WarmUp, Fill);
        int waiting = tasks.Count(t => !t.IsCompleted);
        if (waiting != count) throw new InvalidOperationException($"only {waiting} of {count} connections were still waiting");
        foreach (var connection in held) connection.Dispose();
        return (before, after);

        async Task WarmUp()
        {
            for (int i = 0; i < WarmupConnections * WarmupRounds; i++)
            {
                if (i > 0 && i % WarmupConnections == 0) await Task.Delay(TimeSpan.FromSeconds(1)); // let tiering catch up
                using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await client.ConnectAsync(IPAddress.Loopback, port);
                var server = await listener.AcceptAsync();
                var waiter = SocketWaitIdle(server);
                client.Shutdown(SocketShutdown.Both);
                await waiter;
                server.Dispose();
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        async Task Fill()
        {
            EchoBenchmark.AnnouncePort(portFile, port, ".NET Socket idle-connection server");
            for (int i = 0; i < count; i++)
            {
                var connection = await listener.AcceptAsync();
                connection.NoDelay = true;
                held.Add(connection);
                tasks.Add(SocketWaitIdle(connection));
            }
            await Task.Delay(500);
        }
    }

    private static async Task SocketWaitIdle(Socket connection)
    {
        try { await connection.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None); }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>idle-client --port P [--count N]: opens N connections, holds them until the server closes them.</summary>
    public static int Client(Options options)
    {
        int port = (int)options.Integer("port", 0, 1);
        int count = (int)options.Integer("count", 10_000, 1);
        options.RejectUnknown();
        var sockets = new Socket[count];
        for (int i = 0; i < count; i++)
        {
            sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            sockets[i].Connect(IPAddress.Loopback, port);
        }
        // The server measures, then closes everything (or exits): wait for that on the last connection.
        var probe = new byte[1];
        try { while (sockets[^1].Receive(probe) > 0) { } }
        catch (SocketException) { }
        foreach (var socket in sockets) socket.Dispose();
        return 0;
    }
}
