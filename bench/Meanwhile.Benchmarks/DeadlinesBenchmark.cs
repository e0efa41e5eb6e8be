using System.Diagnostics;
using System.Globalization;

namespace Meanwhile.Benchmarks;

/// <summary>
/// The server's two ways of keeping connection deadlines, side by side (issue 14): a one-second heartbeat that walks
/// every connection and compares its deadline field with the clock (what the server did), and a
/// <see cref="DeadlineQueue"/> per timeout, the connection its own entry (what it does now).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>scan</c>: one heartbeat pass over N idle connections, with the caches cold (a 64 MB walk before each pass, as
/// a second of other work would leave them) and warm. The queue does nothing for an idle connection until its deadline.</item>
/// <item><c>request</c>: the deadline work of one keep-alive request (head timeout from the first byte, none while the
/// handler runs, keep-alive timeout after the response), with N idle connections in the queues: fields and two clock
/// readings for the heartbeat; the same clock readings and three list moves for the queues.</item>
/// </list>
/// Connections are objects of the server connection's size, allocated among 600-byte fillers as the other objects of an
/// idle connection would spread them.
/// </remarks>
internal static class DeadlinesBenchmark
{
    private enum Phase : byte { Idle, Head, Handler, Body, Write, Linger, Closed }

    /// <summary>The heartbeat's view of a connection (the fields the old CheckDeadline read).</summary>
    private sealed class ScannedConnection(long deadline)
    {
        public long Deadline = deadline;
        public Phase Phase;
        public bool Aborted = deadline == 0;

        // The rest of the connection's 96 bytes (its socket, state, server references).
        public long Padding1 = deadline, Padding2 = deadline, Padding3 = deadline, Padding4 = deadline;
        public long Padding5 = deadline, Padding6 = deadline, Padding7 = deadline, Padding8 = deadline;
    }

    /// <summary>The queue's view: the connection is its own entry.</summary>
    private sealed class QueuedConnection(long seed) : DeadlineQueue.Entry
    {
        public Phase Phase;
        public int Expired;

        // The rest of the connection's 72 bytes.
        public long Padding1 = seed, Padding2 = seed, Padding3 = seed, Padding4 = seed;

        protected override void OnExpired() => Expired++;
    }

    public static int Run(Options options)
    {
        int count = (int)options.Integer("connections", 10_000, 1);
        int passes = (int)options.Integer("passes", 200, 1);
        long requests = options.Integer("requests", 20_000_000, 1000);
        bool json = options.Flag("json");
        options.RejectUnknown();

        var fillers = new List<byte[]>();
        var scanned = new ScannedConnection[count];
        var queued = new QueuedConnection[count];
        for (int i = 0; i < count; i++)
        {
            scanned[i] = new ScannedConnection(long.MaxValue - i);
            fillers.Add(new byte[600]);
            queued[i] = new QueuedConnection(i);
            fillers.Add(new byte[600]);
        }
        var evict = new byte[64 * 1024 * 1024];

        var cold = new List<double>();
        var warm = new List<double>();
        long now = Stopwatch.GetTimestamp();
        int timedOut = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            Evict(evict, pass);
            long start = Stopwatch.GetTimestamp();
            timedOut += Scan(scanned, now);
            cold.Add(Measure.Seconds(start, Stopwatch.GetTimestamp()) * 1e6);
            start = Stopwatch.GetTimestamp();
            timedOut += Scan(scanned, now);
            warm.Add(Measure.Seconds(start, Stopwatch.GetTimestamp()) * 1e6);
        }

        double heartbeatNs = 0, queueNs = 0;
        EventLoop.Run(() =>
        {
            var loop = EventLoop.Current;
            var time = loop.Time;
            var head = new DeadlineQueue(loop, TimeSpan.FromSeconds(10));
            var keepAlive = new DeadlineQueue(loop, TimeSpan.FromSeconds(15));
            foreach (var connection in queued) keepAlive.Start(connection);
            long headTicks = 10 * time.TimestampFrequency, keepAliveTicks = 15 * time.TimestampFrequency;
            var busy = scanned[count / 2];
            var entry = queued[count / 2];
            Action<Phase>? observer = null;
            for (int round = 0; round < 2; round++) // the first round warms up the JIT
            {
                long start = Stopwatch.GetTimestamp();
                for (long r = 0; r < requests; r++)
                {
                    busy.Phase = Phase.Head;
                    busy.Deadline = time.GetTimestamp() + headTicks;
                    observer?.Invoke(busy.Phase);
                    busy.Phase = Phase.Handler;
                    busy.Deadline = 0;
                    observer?.Invoke(busy.Phase);
                    busy.Phase = Phase.Idle;
                    busy.Deadline = time.GetTimestamp() + keepAliveTicks;
                    observer?.Invoke(busy.Phase);
                }
                heartbeatNs = Measure.Seconds(start, Stopwatch.GetTimestamp()) * 1e9 / requests;

                start = Stopwatch.GetTimestamp();
                for (long r = 0; r < requests; r++)
                {
                    entry.Phase = Phase.Head;
                    head.Start(entry);
                    observer?.Invoke(entry.Phase);
                    entry.Phase = Phase.Handler;
                    entry.Stop();
                    observer?.Invoke(entry.Phase);
                    entry.Phase = Phase.Idle;
                    keepAlive.Start(entry);
                    observer?.Invoke(entry.Phase);
                }
                queueNs = Measure.Seconds(start, Stopwatch.GetTimestamp()) * 1e9 / requests;
            }
            head.Clear();
            keepAlive.Clear();
            return Task.CompletedTask;
        });
        GC.KeepAlive(fillers);

        double coldUs = Measure.Median(cold), warmUs = Measure.Median(warm);
        if (json)
        {
            Console.WriteLine(new Json()
                .Add("bench", "deadlines").Add("impl", "meanwhile").Add("connections", count)
                .Add("scan_cold_us", coldUs).Add("scan_warm_us", warmUs)
                .Add("request_heartbeat_ns", heartbeatNs).Add("request_queue_ns", queueNs)
                .Add("timed_out", timedOut));
            return 0;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"heartbeat pass over {count:N0} idle connections: {coldUs:0.0} µs cold, {warmUs:0.0} µs warm (median of {passes}); queue: nothing until a deadline"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"deadline work per keep-alive request: heartbeat fields {heartbeatNs:0.0} ns, deadline queues {queueNs:0.0} ns ({requests:N0} requests, {count:N0} idle entries)"));
        return 0;
    }

    /// <summary>The old heartbeat's walk: every connection's phase and deadline against the clock.</summary>
    private static int Scan(ScannedConnection[] connections, long now)
    {
        int expired = 0;
        for (int i = connections.Length - 1; i >= 0; i--)
        {
            var connection = connections[i];
            if (connection.Aborted) continue;
            if (connection.Phase == Phase.Body) continue;
            if (connection.Deadline == 0 || now < connection.Deadline) continue;
            expired++;
        }
        return expired;
    }

    private static void Evict(byte[] memory, int pass)
    {
        for (int i = 0; i < memory.Length; i += 64) memory[i] = (byte)pass;
    }
}
