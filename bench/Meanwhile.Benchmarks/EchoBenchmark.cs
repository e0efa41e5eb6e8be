using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Meanwhile.Benchmarks;

/// <summary>
/// TCP echo for issue 3: echo servers (Meanwhile on one loop, or a plain .NET Socket async/await server) and one
/// client (Meanwhile, one loop) that measures messages/s (C connections ping-ponging fixed-size messages) or
/// throughput (C connections streaming blocks, a writer and a reader task on each). The client also reads the
/// server's CPU time (the server process and its children, from /proc) over the measured window, so the cost per
/// message is known even when the machine is shared.
/// </summary>
internal static class EchoBenchmark
{
    // ---------------------------------------------------------------- servers

    /// <summary>echo-server --impl meanwhile|socket [--port P] [--port-file F] [--buffer B]: runs until killed.</summary>
    public static int Server(Options options)
    {
        string impl = options.Choice("impl", "meanwhile", "meanwhile", "socket");
        int port = (int)options.Integer("port", 0, 0);
        string? portFile = options.Text("port-file");
        int bufferSize = (int)options.Integer("buffer", 64 * 1024, 1);
        options.RejectUnknown();
        if (impl == "meanwhile") MeanwhileServer(port, portFile, bufferSize);
        else SocketServer(port, portFile, bufferSize).GetAwaiter().GetResult();
        return 0;
    }

    internal static void AnnouncePort(string? portFile, int port, string what)
    {
        Console.Error.WriteLine($"{what} listening on 127.0.0.1:{port} (pid {Environment.ProcessId})");
        if (portFile is null) return;
        // Written to a temporary name and renamed, so the script never reads half a file.
        File.WriteAllText(portFile + ".tmp", port.ToString(CultureInfo.InvariantCulture));
        File.Move(portFile + ".tmp", portFile, overwrite: true);
    }

    private static void MeanwhileServer(int port, string? portFile, int bufferSize)
    {
        EventLoop.Run(async () =>
        {
            var loop = EventLoop.Current;
            await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, port));
            AnnouncePort(portFile, listener.Port, $"meanwhile echo ({loop.ReactorName})");
            while (true)
            {
                var connection = await listener.AcceptAsync();
                _ = loop.Spawn(() => EchoOne(connection, bufferSize));
            }
        });
    }

    private static async Task EchoOne(SocketStream connection, int bufferSize)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            while (true)
            {
                int n = await connection.ReadAsync(buffer.AsMemory(0, bufferSize));
                if (n == 0) break;
                await connection.WriteAsync(buffer.AsMemory(0, n));
            }
        }
        catch (IOException) { /* the client went away (reset, broken pipe): the end of a run */ }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await connection.DisposeAsync();
        }
    }

    private static async Task SocketServer(int port, string? portFile, int bufferSize)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen(511);
        AnnouncePort(portFile, ((IPEndPoint)listener.LocalEndPoint!).Port, ".NET Socket echo");
        while (true)
        {
            var connection = await listener.AcceptAsync();
            connection.NoDelay = true;
            _ = SocketEchoOne(connection, bufferSize);
        }
    }

    private static async Task SocketEchoOne(Socket connection, int bufferSize)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            while (true)
            {
                int n = await connection.ReceiveAsync(buffer.AsMemory(0, bufferSize), SocketFlags.None);
                if (n == 0) break;
                await connection.SendAsync(buffer.AsMemory(0, n), SocketFlags.None); // sends every byte on a stream socket
            }
        }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            connection.Dispose();
        }
    }

    // ---------------------------------------------------------------- client

    /// <summary>
    /// echo-client --port P --mode pingpong|stream [--connections C] [--size S] [--seconds T] [--warmup W]
    /// [--runs R] [--server-pid PID] [--label L] [--json]
    /// </summary>
    public static int Client(Options options)
    {
        int port = (int)options.Integer("port", 0, 1);
        string mode = options.Choice("mode", "pingpong", "pingpong", "stream");
        int connections = (int)options.Integer("connections", mode == "pingpong" ? 64 : 4, 1);
        int size = (int)options.Integer("size", mode == "pingpong" ? 64 : 64 * 1024, 1);
        double seconds = options.Number("seconds", 2, 0.1);
        double warmup = options.Number("warmup", 1, 0);
        int runs = (int)options.Integer("runs", 3, 1);
        int serverPid = (int)options.Integer("server-pid", 0, 0);
        string label = options.Text("label") ?? "?";
        bool json = options.Flag("json");
        options.RejectUnknown();

        var rates = new List<double>();
        var cpuPerUnit = new List<double>();
        var serverCpuShare = new List<double>();
        var clientCpuShare = new List<double>();
        EventLoop.Run(async () =>
        {
            var loop = EventLoop.Current;
            var streams = new SocketStream[connections];
            for (int i = 0; i < connections; i++)
                streams[i] = await SocketStream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));

            var counters = new long[connections]; // messages (pingpong) or bytes echoed back (stream), per connection
            bool stop = false;
            var workers = new List<LoopTask>();
            for (int i = 0; i < connections; i++)
            {
                int index = i;
                var stream = streams[i];
                if (mode == "pingpong")
                {
                    workers.Add(loop.Spawn(async () =>
                    {
                        var message = new byte[size];
                        var reply = new byte[size];
                        while (!Volatile.Read(ref stop))
                        {
                            await stream.WriteAsync(message);
                            int got = 0;
                            while (got < size)
                            {
                                int n = await stream.ReadAsync(reply.AsMemory(got));
                                if (n == 0) throw new IOException("the echo server closed the connection");
                                got += n;
                            }
                            counters[index]++;
                        }
                    }));
                }
                else
                {
                    workers.Add(loop.Spawn(async () =>
                    {
                        var block = new byte[size];
                        Random.Shared.NextBytes(block);
                        while (!Volatile.Read(ref stop)) await stream.WriteAsync(block);
                    }));
                    workers.Add(loop.Spawn(async () =>
                    {
                        var buffer = new byte[size];
                        while (!Volatile.Read(ref stop))
                        {
                            int n = await stream.ReadAsync(buffer);
                            if (n == 0) throw new IOException("the echo server closed the connection");
                            counters[index] += n;
                        }
                    }));
                }
            }

            if (warmup > 0) await loop.Delay(TimeSpan.FromSeconds(warmup));
            using var self = Process.GetCurrentProcess();
            for (int run = 0; run < runs; run++)
            {
                long count0 = Sum(counters);
                double server0 = ProcessTreeCpuSeconds(serverPid);
                self.Refresh();
                var client0 = self.TotalProcessorTime;
                long t0 = Stopwatch.GetTimestamp();
                await loop.Delay(TimeSpan.FromSeconds(seconds));
                long t1 = Stopwatch.GetTimestamp();
                long count1 = Sum(counters);
                double server1 = ProcessTreeCpuSeconds(serverPid);
                self.Refresh();
                var client1 = self.TotalProcessorTime;
                double wall = Measure.Seconds(t0, t1);
                double units = count1 - count0;
                rates.Add(units / wall);
                if (serverPid > 0)
                {
                    // µs of server CPU per message, or per MB echoed.
                    double perUnit = mode == "pingpong" ? units : units / 1e6;
                    cpuPerUnit.Add((server1 - server0) * 1e6 / perUnit);
                    serverCpuShare.Add((server1 - server0) / wall);
                }
                clientCpuShare.Add((client1 - client0).TotalSeconds / wall);
            }
            // The run is over: leave without a goodbye (the kernel closes the connections; servers see EOF or a reset).
            Volatile.Write(ref stop, true);
        });

        string unit = mode == "pingpong" ? "msg/s" : "MB/s";
        double scale = mode == "pingpong" ? 1 : 1e-6;
        double median = Measure.Median(rates) * scale;
        if (json)
        {
            var line = new Json().Add("bench", "echo-" + mode).Add("impl", label)
                .Add("connections", connections).Add("size", size).Add("seconds", seconds)
                .Add("rate", median).Add("unit", unit).Add("rates", rates.Select(r => r * scale))
                .Add("client_cpu", Measure.Median(clientCpuShare));
            if (cpuPerUnit.Count > 0)
                line.Add("server_cpu_us_per_unit", Measure.Median(cpuPerUnit)).Add("server_cpu", Measure.Median(serverCpuShare));
            Console.WriteLine(line);
        }
        else
        {
            // InvariantGlobalization: the current culture is the invariant one.
            Console.WriteLine(
                $"echo {mode} {label}: {median:F1} {unit} (median of {runs} x {seconds} s; runs {string.Join(", ", rates.Select(r => (r * scale).ToString("F1", CultureInfo.InvariantCulture)))}), " +
                $"{connections} connection(s) x {size} B; client CPU {Measure.Median(clientCpuShare):P0}" +
                (cpuPerUnit.Count > 0 ? $"; server CPU {Measure.Median(serverCpuShare):P0}, {Measure.Median(cpuPerUnit):F2} µs per {(mode == "pingpong" ? "message" : "MB")}" : ""));
        }
        // Pending reads and writes of the worker tasks are abandoned with the process.
        Environment.Exit(0);
        return 0;
    }

    private static long Sum(long[] values)
    {
        long sum = 0;
        foreach (var v in values) sum += v;
        return sum;
    }

    /// <summary>
    /// CPU seconds (user + system) of <paramref name="pid"/> and its live descendants (socat forks one child per
    /// connection), from /proc/*/stat; 0 when pid is 0.
    /// </summary>
    internal static double ProcessTreeCpuSeconds(int pid)
    {
        if (pid <= 0) return 0;
        var parents = new Dictionary<int, int>();
        var ticks = new Dictionary<int, long>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int p)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            // Fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15).
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            parents[p] = int.Parse(rest[1], CultureInfo.InvariantCulture);
            ticks[p] = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
        }
        long total = 0;
        foreach (var (p, t) in ticks)
        {
            int q = p;
            for (int depth = 0; q > 1 && depth < 64; depth++)
            {
                if (q == pid) { total += t; break; }
                if (!parents.TryGetValue(q, out int parent)) break;
                q = parent;
            }
        }
        return total / 100.0; // USER_HZ is 100 on Linux
    }
}
