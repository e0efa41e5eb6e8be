using System.Net;
using System.Net.Sockets;
using Meanwhile.Http.Server;
using Microsoft.Extensions.Logging;

namespace Meanwhile.Http.Server.Tests;

/// <summary>A server that cannot start says why, leaves nothing running, and can still be disposed (on either reactor).</summary>
public sealed class StartFailureTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_taken_port_fails_the_start_with_AddressInUseException_and_dispose_returns(int loops)
    {
        // A listener without SO_REUSEPORT holds the port, so no loop of the server may share it.
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        int port = ((IPEndPoint)holder.LocalEndPoint!).Port;

        var server = new HttpServer(Handlers.Hello, new HttpServerOptions { Port = port, Loops = loops });
        var error = await Assert.ThrowsAsync<AddressInUseException>(() => server.StartAsync().WaitAsync(Deadline));
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Null(server.EndPoint);
        Assert.True(server.Completion.IsCompletedSuccessfully, "Completion should complete: nothing runs");
        await server.DisposeAsync().AsTask().WaitAsync(Deadline); // the bug: this never returned
    }

    [Fact]
    public async Task An_address_this_machine_does_not_have_fails_the_start_with_EADDRNOTAVAIL()
    {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): documentation only, on no interface here. Nothing is sent.
        var server = new HttpServer(Handlers.Hello, new HttpServerOptions { Host = "192.0.2.1", Port = 0, Loops = 1 });
        var error = await Assert.ThrowsAsync<SystemCallException>(() => server.StartAsync().WaitAsync(Deadline));
        Assert.Equal("EADDRNOTAVAIL", error.ErrorName);
        Assert.Contains("192.0.2.1", error.Message, StringComparison.Ordinal);
        await server.DisposeAsync().AsTask().WaitAsync(Deadline);
    }

    [Fact]
    public async Task A_start_abandoned_once_the_first_loop_listens_stops_that_loop_and_dispose_returns()
    {
        // The logger sees the first loop listen (with its address) and abandons the start right then, while the
        // second loop is still on its way: the first one must not be left serving.
        using var abandon = new CancellationTokenSource();
        var listening = new ListeningLog(abandon);
        var server = new HttpServer(Handlers.Hello, new HttpServerOptions { Port = 0, Loops = 2, LoggerFactory = listening });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.StartAsync(abandon.Token).WaitAsync(Deadline));
        await server.Completion.WaitAsync(Deadline);
        await server.DisposeAsync().AsTask().WaitAsync(Deadline);

        // Every listener is closed: no socket of this process listens on the port the first loop had. (Connecting to
        // it to see it refused would race the other tests of the run, which may bind the port once it is free.)
        var address = await listening.First.WaitAsync(Deadline);
        Assert.False(OwnSockets.IsListening(address.Port), $"a listener on {address} was left open");
    }

    [Fact]
    public async Task A_start_cancelled_before_it_begins_starts_nothing_and_the_server_can_start_later()
    {
        var server = new HttpServer(Handlers.Hello, new HttpServerOptions { Port = 0, Loops = 2 });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.StartAsync(new CancellationToken(canceled: true)));
        Assert.Null(server.EndPoint);
        await server.StartAsync().WaitAsync(Deadline);
        Assert.True(OwnSockets.IsListening(server.EndPoint!.Port));
        await server.DisposeAsync().AsTask().WaitAsync(Deadline);
    }

    /// <summary>A logger that reports the first "listening" event's address and then cancels.</summary>
    private sealed class ListeningLog(CancellationTokenSource abandon) : ILoggerFactory, ILogger
    {
        private readonly TaskCompletionSource<IPEndPoint> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<IPEndPoint> First => _first.Task;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name != "Listening" || state is not IReadOnlyList<KeyValuePair<string, object?>> fields) return;
            foreach (var (key, value) in fields)
            {
                if (key == "EndPoint" && value is string text && IPEndPoint.TryParse(text, out var endpoint) && _first.TrySetResult(endpoint))
                    abandon.Cancel();
            }
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }
    }
}
