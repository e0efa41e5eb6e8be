namespace Meanwhile.Http.WebSockets;

/// <summary>Where a <see cref="LoopWebSocket"/> is in its life (RFC 6455 4 and 7).</summary>
public enum LoopWebSocketState : byte
{
    /// <summary>Both sides may send.</summary>
    Open,

    /// <summary>This side sent its close frame and waits for the peer's; it still receives.</summary>
    CloseSent,

    /// <summary>The peer's close frame arrived (and was answered): nothing more is sent or received.</summary>
    Closed,

    /// <summary>The connection ended without a complete close handshake: a protocol error, a drop, a timeout, or disposal.</summary>
    Aborted,
}
