using System.Collections.Concurrent;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// Timeouts on a virtual clock that only the test moves: the test waits until the connection is in the phase it
/// wants (the server reports each change), then jumps time past the deadline. No real waiting, no race.
/// </summary>
public sealed class TimeoutTests
{
    private sealed class Harness : IAsyncDisposable
    {
        private readonly BlockingCollection<ConnectionPhase> _phases = new();

        public VirtualClock Clock { get; } = new() { AutoAdvance = false };

        public TestServer Server { get; private set; } = null!;

        public static async Task<Harness> StartAsync(RequestHandler handler)
        {
            var harness = new Harness();
            harness.Server = await TestServer.StartAsync(handler, new HttpServerOptions
            {
                TimeProvider = harness.Clock,
                PhaseObserver = harness._phases.Add,
                RequestHeadTimeout = TimeSpan.FromSeconds(10),
                KeepAliveTimeout = TimeSpan.FromSeconds(15),
                MinRequestBodyDataRate = 240,
                MinRequestBodyDataRateGracePeriod = TimeSpan.FromSeconds(5),
            });
            return harness;
        }

        public void WaitFor(ConnectionPhase phase)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (true)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !_phases.TryTake(out var seen, left)) throw new TimeoutException($"the connection never reached {phase}");
                if (seen == phase) return;
            }
        }

        public async ValueTask DisposeAsync() => await Server.DisposeAsync();
    }

    [Fact]
    public async Task A_partial_head_gets_408_after_the_head_timeout()
    {
        await using var h = await Harness.StartAsync(EchoHandler.HandleAsync);
        using var client = new RawClient(h.Server.Port);
        client.Send("GET / HTTP/1.1\r\nHo");
        h.WaitFor(ConnectionPhase.Head);
        h.Clock.Advance(TimeSpan.FromSeconds(9));
        // Not yet: nine seconds are within the limit, so a complete head is still answered.
        client.Send("st: x\r\n\r\n");
        Assert.Equal(200, client.ReadResponses(1)[0].Status);
        client.Send("GET / HTTP/1.1\r\n");
        h.WaitFor(ConnectionPhase.Head);
        h.Clock.Advance(TimeSpan.FromSeconds(11));
        string rest = client.ReadToEnd();
        Assert.StartsWith("HTTP/1.1 408 Request Timeout\r\n", rest);
        Assert.Contains("Connection: close", rest);
    }

    [Fact]
    public async Task An_idle_keep_alive_connection_is_closed_silently()
    {
        await using var h = await Harness.StartAsync(EchoHandler.HandleAsync);
        using var client = new RawClient(h.Server.Port);
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, client.ReadResponses(1)[0].Status);
        h.WaitFor(ConnectionPhase.Idle);
        h.Clock.Advance(TimeSpan.FromSeconds(14));
        client.Send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Contains("/again", client.ReadResponses(1)[0].Body);
        h.WaitFor(ConnectionPhase.Idle);
        h.Clock.Advance(TimeSpan.FromSeconds(16));
        Assert.Equal("", client.ReadToEnd());
    }

    [Fact]
    public async Task A_slow_body_is_cut_off_below_the_minimum_rate()
    {
        await using var h = await Harness.StartAsync(EchoHandler.HandleAsync);
        using var client = new RawClient(h.Server.Port);
        client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789");
        h.WaitFor(ConnectionPhase.Body);
        h.Clock.Advance(TimeSpan.FromSeconds(6)); // past the 5 s grace, with 10 bytes instead of 1440
        Assert.Equal("", client.ReadToEnd());
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_after_the_head_timeout()
    {
        await using var h = await Harness.StartAsync(EchoHandler.HandleAsync);
        using var client = new RawClient(h.Server.Port);
        h.WaitFor(ConnectionPhase.Idle);
        h.Clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal("", client.ReadToEnd());
    }
}
