namespace Meanwhile.Http.WebSockets;

/// <summary>
/// Runs one accepted WebSocket on the server: it owns the connection until the returned task completes. If it returns
/// with the WebSocket still open, the server closes it with 1000 (1011 if it threw), waiting a bounded time for the
/// client's answer.
/// </summary>
/// <param name="webSocket">The connection.</param>
/// <returns>Completes when the handler is done with the connection.</returns>
public delegate ValueTask WebSocketHandler(LoopWebSocket webSocket);
