using Meanwhile.Http.Server;
using Meanwhile.Http.WebSockets;

namespace Meanwhile.Cli;

/// <summary>
/// <c>meanwhile echo</c>'s WebSocket side: a WebSocket handshake on any path is accepted, and each message comes back
/// as one message of the same kind, up to 16 MiB; other requests get the HTTP echo.
/// </summary>
internal static class WebSocketEcho
{
    public static readonly LoopWebSocketOptions Options = new() { MaxMessageBytes = 16 * 1024 * 1024 };

    /// <summary>The echo handler with WebSocket upgrades on every path.</summary>
    public static RequestHandler Around(RequestHandler http) => (request, response) =>
    {
        if (!request.IsWebSocketRequest()) return http(request, response);
        response.AcceptWebSocket(request, RunAsync, Options);
        return ValueTask.CompletedTask;
    };

    /// <summary>Echoes until the client closes.</summary>
    public static async ValueTask RunAsync(LoopWebSocket socket)
    {
        var message = new Meanwhile.Http.PooledByteBuffer(4096);
        try
        {
            while (true)
            {
                var kind = await socket.ReceiveMessageAsync(message);
                if (kind == WebSocketMessageKind.Close) return;
                await socket.SendAsync(message.WrittenMemory, kind);
                // An idle echo holds no buffer; a busy one keeps its array between messages of up to 64 KiB.
                if (message.Length > 64 * 1024) message.Release();
                else message.Clear();
            }
        }
        finally
        {
            message.Release();
        }
    }
}
