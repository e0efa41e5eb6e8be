namespace Meanwhile.Http.WebSockets;

/// <summary>What a received message (or a piece of one) is: text, binary data, or the peer's close.</summary>
public enum WebSocketMessageKind : byte
{
    /// <summary>UTF-8 text (checked as it arrives: invalid UTF-8 closes the connection with 1007).</summary>
    Text = 1,

    /// <summary>Binary data.</summary>
    Binary = 2,

    /// <summary>The peer closed the connection; see <see cref="LoopWebSocket.CloseCode"/> and <see cref="LoopWebSocket.CloseReason"/>.</summary>
    Close = 8,
}
