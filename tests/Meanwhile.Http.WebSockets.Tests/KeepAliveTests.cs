using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>The keep-alive ping and the idle timeout on a virtual clock that only the test moves.</summary>
public sealed class KeepAliveTests
{
    private static async Task<(WsServer Server, VirtualClock Clock, TaskCompletionSource Accepted)> StartAsync(LoopWebSocketOptions options)
    {
        var clock = new VirtualClock { AutoAdvance = false };
        var accepted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var router = new Router().MapWebSocket("/ws", socket =>
        {
            accepted.TrySetResult();
            return Echo.RunAsync(socket);
        }, options);
        var server = await WsServer.StartAsync(router.HandleAsync, new HttpServerOptions { TimeProvider = clock });
        return (server, clock, accepted);
    }

    /// <summary>Sends a message and reads its echo: everything sent before it has been read by the server.</summary>
    private static void RoundTrip(RawClient client, string text)
    {
        client.Send(RawClient.Frame(1, Encoding.UTF8.GetBytes(text)));
        Assert.Equal(text, Encoding.UTF8.GetString(client.ReadFrame().Payload));
    }

    [Fact]
    public void Options_copied_with_with_keep_their_own_keep_alive_queues_and_the_same_options_share_them_per_loop()
    {
        var pinging = new LoopWebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(1) };
        var copy = pinging with { KeepAliveInterval = TimeSpan.FromSeconds(2) };
        Assert.Equal(TimeSpan.FromSeconds(1), pinging.KeepAliveInterval); // the copy changed nothing in the original
        Loops.Run(_ =>
        {
            var loop = EventLoop.Current;
            Assert.Same(pinging.QueuesFor(loop), pinging.QueuesFor(loop));
            Assert.NotSame(pinging.QueuesFor(loop), copy.QueuesFor(loop));
            Assert.Null(LoopWebSocketOptions.Default.QueuesFor(loop)); // no timer: no queues
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_silent_peer_is_pinged_after_the_interval_and_closed_with_1001_at_the_idle_timeout()
    {
        var (server, clock, accepted) = await StartAsync(new LoopWebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30), IdleTimeout = TimeSpan.FromSeconds(50) });
        await using var _ = server;
        using var client = new RawClient(server.Port);
        client.Handshake();
        await accepted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        RoundTrip(client, "hello");

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(9, client.ReadFrame().Opcode); // the keep-alive ping
        client.Send(RawClient.Frame(10, []));       // a live peer's pong...
        RoundTrip(client, "still here");            // ...read by the server, which starts counting again

        clock.Advance(TimeSpan.FromSeconds(29));
        RoundTrip(client, "no ping yet");           // 29 s of silence is within the interval
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(9, client.ReadFrame().Opcode);
        // No pong this time: the rest of the idle timeout passes and the server leaves with 1001.
        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(1001, client.ReadClose());
        Assert.True(client.ServerClosed());
    }

    [Fact]
    public async Task A_frame_dripped_slower_than_the_idle_timeout_is_cut_with_1001()
    {
        var (server, clock, accepted) = await StartAsync(new LoopWebSocketOptions { IdleTimeout = TimeSpan.FromSeconds(20) });
        await using var _ = server;
        using var client = new RawClient(server.Port);
        client.Handshake();
        await accepted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        RoundTrip(client, "hello");
        // Half a header, then nothing: bytes that make no frame do not count as hearing from the peer.
        client.Send(RawClient.Frame(1, "x"u8.ToArray())[..1]);
        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(1001, client.ReadClose());
        Assert.True(client.ServerClosed());
    }
}
