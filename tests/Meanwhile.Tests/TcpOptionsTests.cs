using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;

namespace Meanwhile.Tests;

public class TcpOptionsTests
{
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    [EpollFact]
    public void TCP_NODELAY_is_on_by_default_on_both_ends_and_off_when_asked()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var accepted = await accept;
            Assert.Equal(1, Option(client, LinuxNative.IPPROTO_TCP, LinuxNative.TCP_NODELAY));
            Assert.Equal(1, Option(accepted, LinuxNative.IPPROTO_TCP, LinuxNative.TCP_NODELAY));
            Assert.Equal(0, Option(client, LinuxNative.SOL_SOCKET, LinuxNative.SO_KEEPALIVE));

            await using var nagle = await SocketStream.ConnectAsync(listener.LocalEndPoint, new SocketStreamOptions { NoDelay = false });
            await using var nagleAccepted = await listener.AcceptAsync();
            Assert.Equal(0, Option(nagle, LinuxNative.IPPROTO_TCP, LinuxNative.TCP_NODELAY));
        });
    }

    [EpollFact]
    public void Keep_alive_options_reach_the_kernel_on_connected_and_accepted_sockets()
    {
        var keepAlive = new SocketStreamOptions
        {
            KeepAlive = true,
            KeepAliveIdle = TimeSpan.FromSeconds(42),
            KeepAliveInterval = TimeSpan.FromMilliseconds(7_500), // rounded up to whole seconds: 8
            KeepAliveProbes = 5,
        };
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort, new ListenOptions { Accepted = keepAlive });
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint, keepAlive);
            await using var accepted = await accept;
            foreach (var stream in new[] { client, accepted })
            {
                Assert.Equal(1, Option(stream, LinuxNative.SOL_SOCKET, LinuxNative.SO_KEEPALIVE));
                Assert.Equal(42, Option(stream, LinuxNative.IPPROTO_TCP, LinuxNative.TCP_KEEPIDLE));
                Assert.Equal(8, Option(stream, LinuxNative.IPPROTO_TCP, LinuxNative.TCP_KEEPINTVL));
                Assert.Equal(5, Option(stream, LinuxNative.IPPROTO_TCP, LinuxNative.TCP_KEEPCNT));
            }
        });
    }

    [Fact]
    public void Listeners_sharing_a_port_with_SO_REUSEPORT_each_accept_a_share_of_the_connections()
    {
        Loops.Run(async loop =>
        {
            var shared = new ListenOptions { ReusePort = true };
            await using var first = StreamListener.ListenTcp(AnyLoopbackPort, shared);
            await using var second = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, first.Port), shared);
            int[] accepted = new int[2];
            var open = new List<SocketStream>();
            var allAccepted = new TaskCompletionSource();
            var acceptors = new[] { first, second }.Select((listener, i) => loop.Spawn(async () =>
            {
                while (true)
                {
                    open.Add(await listener.AcceptAsync());
                    accepted[i]++;
                    if (accepted[0] + accepted[1] == 64) allAccepted.SetResult();
                }
            })).ToArray();
            // The kernel spreads connections by a hash of their addresses: with 64 different client ports, the
            // chance that one listener gets none is 2^-63.
            for (int i = 0; i < 64; i++) open.Add(await SocketStream.ConnectAsync(first.LocalEndPoint));
            await loop.WithTimeout(TimeSpan.FromSeconds(10), token => allAccepted.Task.WaitAsync(token));
            foreach (var acceptor in acceptors) acceptor.Cancel();
            Assert.True(accepted[0] > 0 && accepted[1] > 0, $"accepted {accepted[0]} and {accepted[1]}");
            foreach (var stream in open) await stream.DisposeAsync();
        });
    }

    [Fact]
    public void A_connect_that_gets_no_answer_fails_with_ConnectionTimedOut_at_the_timeout()
    {
        // Nothing outside this machine may be a target here, so: a listener with a backlog of 1 that never accepts.
        // Once its accept queue is full the kernel drops further SYNs without an answer (whatever syncookies say),
        // and the client would only retransmit after 1 s; a 300 ms connect timeout must fire first.
        var timeout = TimeSpan.FromMilliseconds(300);
        Loops.Run(async loop =>
        {
            // A first connection elsewhere, so the attempts below time the connect, not the socket stack's cold start
            // (on the portable reactor .NET's socket engine and its completion threads start with the first one).
            await using (var warm = StreamListener.ListenTcp(AnyLoopbackPort))
            await using (await SocketStream.ConnectAsync("127.0.0.1", warm.Port)) { }
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort, new ListenOptions { Backlog = 1 });
            var options = new SocketStreamOptions { ConnectTimeout = timeout };
            var held = new List<SocketStream>();
            ConnectionTimedOutException? timedOut = null;
            var clock = new Stopwatch();
            for (int attempt = 0; attempt < 16 && timedOut is null; attempt++)
            {
                clock.Restart();
                try { held.Add(await SocketStream.ConnectAsync("127.0.0.1", listener.Port, options)); }
                catch (ConnectionTimedOutException e) { timedOut = e; }
            }
            clock.Stop();
            Assert.NotNull(timedOut);
            Assert.InRange(held.Count, 1, 8); // the queue filled after a couple of connections
            Assert.InRange(clock.Elapsed, timeout - TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(5));
            Assert.Equal("ETIMEDOUT", timedOut.ErrorName);
            Assert.Contains($"127.0.0.1:{listener.Port}", timedOut.Message);
            foreach (var stream in held) await stream.DisposeAsync();
        });
    }

    private static unsafe int Option(SocketStream stream, int level, int name)
    {
        int fd = ((PolledDescriptorStream)stream.Platform).Descriptor;
        int value = 0;
        uint length = sizeof(int);
        if (LinuxNative.getsockopt(fd, level, name, &value, &length) < 0)
            throw new InvalidOperationException($"getsockopt({level}, {name}) failed: errno {Marshal.GetLastPInvokeError()}");
        return value;
    }
}
