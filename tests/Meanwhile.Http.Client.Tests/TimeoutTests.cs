using System.Net;
using System.Net.Sockets;

namespace Meanwhile.Http.Client.Tests;

/// <summary>
/// The client's timeouts on a virtual clock that only the test moves, against a peer on the same loop
/// (<see cref="LoopPeer"/>): each timeout fires exactly when its deadline passes, never a tick before, with its own
/// error kind; it closes its connection, is never taken for a stale connection (no retry), and leaves the client
/// usable. No wall-clock window is asserted.
/// </summary>
public sealed class TimeoutTests
{
    private static void Run(LoopHttpClientOptions options, Func<EventLoop, VirtualClock, LoopPeer, LoopHttpClient, Task> test)
    {
        var clock = new VirtualClock { AutoAdvance = false };
        Loops.Run(async () =>
        {
            var loop = EventLoop.Current;
            await using var peer = new LoopPeer(loop);
            await using var client = new LoopHttpClient(options);
            await test(loop, clock, peer, client);
        }, new EventLoopOptions { TimeProvider = clock });
    }

    /// <summary>Lets the loop run a few turns: long enough for an expiry to reach the caller, if one were due.</summary>
    private static async Task Settle(EventLoop loop)
    {
        for (int i = 0; i < 8; i++)
        {
            await loop.Yield();
        }
    }

    /// <summary>Moves time to just before <paramref name="deadline"/> (nothing may fail), then onto it: the request fails there.</summary>
    private static async Task<LoopHttpException> FailsExactlyAt(EventLoop loop, VirtualClock clock, TimeSpan deadline, Task request)
    {
        clock.Advance(deadline - TimeSpan.FromTicks(1) - clock.Elapsed);
        await Settle(loop);
        Assert.False(request.IsCompleted, $"the request ended before its deadline ({clock.Elapsed})");
        clock.Advance(TimeSpan.FromTicks(1));
        // Time stands still from here: the request must end now. A real-time bound turns a miss into a failure, not a hang.
        return await Loops.Fails(() => request.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public void A_request_timeout_on_a_kept_alive_connection_fires_at_its_deadline_and_is_not_retried() => Run(
        new LoopHttpClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(300) },
        async (loop, clock, peer, client) =>
        {
            Assert.Equal("/x", await client.GetStringAsync(peer.Uri("/x")));
            clock.Advance(TimeSpan.FromSeconds(1));
            var start = clock.Elapsed;
            var request = client.GetAsync(peer.Uri("/hang")).AsTask();
            await peer.Received("/hang");
            var error = await FailsExactlyAt(loop, clock, start + TimeSpan.FromMilliseconds(300), request);
            Assert.Equal(LoopHttpErrorKind.RequestTimeout, error.Kind);
            Assert.True(error.IsTimeout);
            Assert.Equal(0, client.OpenConnections(peer.Uri("/")));
            Assert.Equal(1, peer.Accepted); // a retry would have opened a second connection
            Assert.Equal(["/x", "/hang"], peer.Requests);
            Assert.Equal("/y", await client.GetStringAsync(peer.Uri("/y")));
        });

    [Fact]
    public void A_response_headers_timeout_runs_from_the_head_sent_and_closes_the_connection() => Run(
        new LoopHttpClientOptions { ResponseHeadersTimeout = TimeSpan.FromMilliseconds(300) },
        async (loop, clock, peer, client) =>
        {
            Assert.Equal("/x", await client.GetStringAsync(peer.Uri("/x")));
            var start = clock.Elapsed;
            var request = client.GetAsync(peer.Uri("/hang")).AsTask();
            await peer.Received("/hang");
            var error = await FailsExactlyAt(loop, clock, start + TimeSpan.FromMilliseconds(300), request);
            Assert.Equal(LoopHttpErrorKind.ResponseHeadersTimeout, error.Kind);
            Assert.Equal(0, client.OpenConnections(peer.Uri("/")));
            Assert.Equal("/y", await client.GetStringAsync(peer.Uri("/y")));
        });

    [Fact]
    public void A_response_headers_timeout_on_a_new_connection_is_typed_too() => Run(
        new LoopHttpClientOptions { ResponseHeadersTimeout = TimeSpan.FromMilliseconds(200) },
        async (loop, clock, peer, client) =>
        {
            var request = client.GetAsync(peer.Uri("/hang")).AsTask();
            await peer.Received("/hang");
            var error = await FailsExactlyAt(loop, clock, TimeSpan.FromMilliseconds(200), request);
            Assert.Equal(LoopHttpErrorKind.ResponseHeadersTimeout, error.Kind);
        });

    [Fact]
    public void The_request_timeout_covers_the_body_read_after_a_fast_head() => Run(
        new LoopHttpClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(300) },
        async (loop, clock, peer, client) =>
        {
            using var response = await client.GetAsync(peer.Uri("/slow-body"));
            Assert.Equal(200, response.StatusCode);
            clock.Advance(TimeSpan.FromMilliseconds(100));
            var body = response.ReadAsBytesAsync();
            var error = await FailsExactlyAt(loop, clock, TimeSpan.FromMilliseconds(300), body);
            Assert.Equal(LoopHttpErrorKind.RequestTimeout, error.Kind);
        });

    [Fact]
    public void A_head_dripping_slower_than_the_response_headers_timeout_fails_at_the_deadline() => Run(
        new LoopHttpClientOptions { ResponseHeadersTimeout = TimeSpan.FromMilliseconds(500) },
        async (loop, clock, peer, client) =>
        {
            var request = client.GetAsync(peer.Uri("/drip")).AsTask();
            await peer.Received("/drip");
            for (int step = 0; step < 4; step++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(100)); // one more byte of the head each time
                await Settle(loop);
            }

            var error = await FailsExactlyAt(loop, clock, TimeSpan.FromMilliseconds(500), request);
            Assert.Equal(LoopHttpErrorKind.ResponseHeadersTimeout, error.Kind);
        });

    [Fact]
    public void A_timeout_still_fires_on_time_after_many_requests_finished_before_theirs() => Run(
        new LoopHttpClientOptions { RequestTimeout = TimeSpan.FromSeconds(3) },
        async (loop, clock, peer, client) =>
        {
            // Requests that end early leave the timeout queue without moving its timer; once their deadlines have
            // passed, the timer must re-arm for the request still running, neither early nor late.
            for (int i = 0; i < 40; i++)
            {
                Assert.Equal($"/q{i}", await client.GetStringAsync(peer.Uri($"/q{i}")));
                clock.Advance(TimeSpan.FromMilliseconds(100));
                await Settle(loop);
            }

            var start = clock.Elapsed;
            var request = client.GetAsync(peer.Uri("/hang")).AsTask();
            await peer.Received("/hang");
            var error = await FailsExactlyAt(loop, clock, start + TimeSpan.FromSeconds(3), request);
            Assert.Equal(LoopHttpErrorKind.RequestTimeout, error.Kind);
        });

    [Fact]
    public void A_connect_that_never_completes_fails_at_the_connect_timeout() => Run(
        new LoopHttpClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) },
        async (loop, clock, peer, client) =>
        {
            // A listener with a full backlog never completes new handshakes: SYNs are dropped.
            using var blocker = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            blocker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            blocker.Listen(0);
            var port = ((IPEndPoint)blocker.LocalEndPoint!).Port;
            var fillers = new List<Socket>();
            try
            {
                for (int i = 0; i < 8; i++)
                {
                    var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                    fillers.Add(filler);
                    try
                    {
                        filler.Connect(new IPEndPoint(IPAddress.Loopback, port));
                    }
                    catch (SocketException)
                    {
                        // in progress
                    }
                }

                var request = client.GetAsync(new Uri($"http://127.0.0.1:{port}/")).AsTask();
                var error = await FailsExactlyAt(loop, clock, TimeSpan.FromMilliseconds(300), request);
                Assert.Equal(LoopHttpErrorKind.ConnectTimeout, error.Kind);
            }
            finally
            {
                fillers.ForEach(f => f.Dispose());
            }
        });
}
