using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets;

/// <summary>WebSocket routes on a <see cref="Router"/>.</summary>
public static class WebSocketRouting
{
    /// <summary>
    /// Maps GET <paramref name="pattern"/> to a WebSocket endpoint: a valid handshake is accepted and runs
    /// <paramref name="handler"/>; an invalid one is refused (400, or 426 for another version).
    /// </summary>
    /// <param name="router">The router.</param>
    /// <param name="pattern">The path pattern (route parameters allowed; read them in a handler of your own with <see cref="WebSocketAcceptance.AcceptWebSocket"/>).</param>
    /// <param name="handler">What runs each accepted WebSocket.</param>
    /// <param name="options">Limits, keep-alive, subprotocols; null for the defaults.</param>
    /// <returns>The router, to chain calls.</returns>
    public static Router MapWebSocket(this Router router, string pattern, WebSocketHandler handler, LoopWebSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(handler);
        return router.MapGet(pattern, (request, response) =>
        {
            response.AcceptWebSocket(request, handler, options);
            return ValueTask.CompletedTask;
        });
    }
}
