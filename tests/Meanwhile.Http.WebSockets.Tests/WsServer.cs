using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>An in-process server on port 0 with WebSocket routes; disposing it stops it and waits.</summary>
internal sealed class WsServer : IAsyncDisposable
{
    private readonly HttpServer _server;

    private WsServer(HttpServer server) => _server = server;

    public int Port => _server.Port;

    public Uri Uri(string path = "/ws") => new($"{(_server.Options.Https is null ? "ws" : "wss")}://{(_server.Options.Https is null ? "127.0.0.1" : "localhost")}:{Port}{path}");

    public static Task<WsServer> EchoAsync(LoopWebSocketOptions? options = null) =>
        StartAsync(new Router().MapWebSocket("/ws", Echo.RunAsync, options).HandleAsync);

    public static async Task<WsServer> StartAsync(RequestHandler handler, HttpServerOptions? options = null)
    {
        var server = new HttpServer(handler, new HttpServerOptions
        {
            Port = 0,
            Loops = 1,
            TimeProvider = options?.TimeProvider,
            ShutdownTimeout = options?.ShutdownTimeout ?? TimeSpan.FromSeconds(10),
            Https = options?.Https,
        });
        await server.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return new WsServer(server);
    }

    public async ValueTask DisposeAsync() => await _server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
}

/// <summary>The echo the tests talk to: every message back as one message of its kind, until the client closes.</summary>
internal static class Echo
{
    public static async ValueTask RunAsync(LoopWebSocket socket)
    {
        var message = new PooledByteBuffer(4096);
        try
        {
            while (true)
            {
                var kind = await socket.ReceiveMessageAsync(message);
                if (kind == WebSocketMessageKind.Close) return;
                await socket.SendAsync(message.WrittenMemory, kind);
                message.Clear();
            }
        }
        finally
        {
            message.Release();
        }
    }
}
