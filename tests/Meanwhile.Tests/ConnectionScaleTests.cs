using System.Net;
using System.Runtime.InteropServices;

namespace Meanwhile.Tests;

public class ConnectionScaleTests
{
    private const int Connections = 10_000;

    // A python3 client: opens every connection first and keeps them all open, then sends one line on each, reads
    // every reply, checks it, and prints a verdict. Connects go in batches so the listen backlog never overflows.
    private const string Client = """
        import asyncio, resource, sys
        port, count = int(sys.argv[1]), int(sys.argv[2])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        async def main():
            conns = []
            for start in range(0, count, 500):
                batch = [asyncio.open_connection("127.0.0.1", port) for _ in range(start, min(count, start + 500))]
                conns += await asyncio.gather(*batch)
            print("open", len(conns), flush=True)
            for i, (r, w) in enumerate(conns):
                w.write(f"line {i}\n".encode())
            await asyncio.gather(*(w.drain() for r, w in conns))
            replies = await asyncio.gather(*(r.readline() for r, w in conns))
            bad = [i for i, line in enumerate(replies) if line != f"line {i}\n".encode()]
            for r, w in conns:
                w.close()
            print("checked", len(replies), "bad", len(bad), bad[:5], flush=True)
        asyncio.run(main())
        """;

    [Fact]
    public void One_loop_holds_ten_thousand_open_TCP_connections_from_a_python_client_and_echoes_on_each()
    {
        RaiseOpenFileLimit(Connections + 1_000);
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0), new ListenOptions { Backlog = 4096 });
            int live = 0, mostLive = 0, served = 0;
            var handlers = new List<Task>(Connections);
            var acceptor = loop.Spawn(async () =>
            {
                while (true)
                {
                    var connection = await listener.AcceptAsync();
                    mostLive = Math.Max(mostLive, ++live);
                    handlers.Add(loop.Spawn(async () =>
                    {
                        await using (connection)
                        {
                            var line = await ReadLineAsync(connection);
                            await connection.WriteAsync(line);
                            served++;
                            // Stay open until the client closes: the point is to hold them all at once.
                            Assert.Equal(0, await connection.ReadAsync(new byte[1]));
                        }
                        live--;
                    }));
                }
            }, "acceptor");

            using var client = PeerProcess.Python(Client, listener.Port.ToString(), Connections.ToString());
            await loop.RunOnWorker(() => client.WaitFor($"^open {Connections}$", TimeSpan.FromSeconds(25)));
            var verdict = await loop.RunOnWorker(() => client.WaitFor(@"^checked (\d+) bad (\d+)", TimeSpan.FromSeconds(25)));
            Assert.True(verdict.Groups[1].Value == Connections.ToString() && verdict.Groups[2].Value == "0", client.Transcript);
            Assert.Equal(0, await loop.RunOnWorker(() => client.WaitForExit(TimeSpan.FromSeconds(10))));

            await loop.WhenAll(handlers.ToArray()); // every connection saw the client's close
            acceptor.Cancel();
            Assert.Equal(Connections, mostLive);
            Assert.Equal(Connections, served);
            Assert.Equal(0, live);
        });
    }

    private static async Task<byte[]> ReadLineAsync(DataStream connection)
    {
        var line = new MemoryStream();
        var buffer = new byte[64];
        while (true)
        {
            int n = await connection.ReadAsync(buffer);
            Assert.NotEqual(0, n);
            line.Write(buffer, 0, n);
            if (buffer[n - 1] == (byte)'\n') return line.ToArray();
        }
    }

    /// <summary>Raises the soft RLIMIT_NOFILE to the hard limit; fails clearly if even that is below <paramref name="needed"/>.</summary>
    internal static unsafe void RaiseOpenFileLimit(int needed)
    {
        const int RLIMIT_NOFILE = 7;
        ulong* limit = stackalloc ulong[2]; // struct rlimit { rlim_cur; rlim_max; }
        if (getrlimit(RLIMIT_NOFILE, limit) != 0) throw new InvalidOperationException($"getrlimit failed: errno {Marshal.GetLastPInvokeError()}");
        if (limit[1] < (ulong)needed)
            throw new InvalidOperationException($"This test needs {needed} file descriptors; the hard RLIMIT_NOFILE is {limit[1]} (raise it with ulimit -Hn or in the container).");
        if (limit[0] >= limit[1]) return;
        limit[0] = limit[1];
        if (setrlimit(RLIMIT_NOFILE, limit) != 0) throw new InvalidOperationException($"setrlimit failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int getrlimit(int resource, ulong* limit);

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int setrlimit(int resource, ulong* limit);
}
