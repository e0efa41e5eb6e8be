namespace Meanwhile.Http.WebSockets;

/// <summary>What one <see cref="LoopWebSocket.ReceiveAsync(Memory{byte}, CancellationToken)"/> delivered: a piece of a message.</summary>
/// <param name="Count">How many bytes were written into the caller's buffer.</param>
/// <param name="Kind">The message's kind; <see cref="WebSocketMessageKind.Close"/> once the peer closed (then <paramref name="Count"/> is 0).</param>
/// <param name="EndOfMessage">True when this piece ends its message.</param>
public readonly record struct WebSocketReadResult(int Count, WebSocketMessageKind Kind, bool EndOfMessage);
