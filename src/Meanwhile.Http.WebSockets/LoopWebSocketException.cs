namespace Meanwhile.Http.WebSockets;

/// <summary>
/// A WebSocket ended in error: the peer broke the protocol (the connection was closed with the code in
/// <see cref="CloseCode"/>, which was sent to it), the connection dropped without a close frame, the handshake was
/// refused, or an operation came after the close.
/// </summary>
public sealed class LoopWebSocketException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="closeCode">The close code that describes the failure (sent to the peer when it broke the protocol).</param>
    /// <param name="message">What happened, in words.</param>
    /// <param name="inner">The underlying failure, if any.</param>
    public LoopWebSocketException(WebSocketCloseCode closeCode, string message, Exception? inner = null) : base(message, inner) => CloseCode = closeCode;

    /// <summary>Creates a handshake failure: the server answered <paramref name="statusCode"/> instead of 101.</summary>
    /// <param name="statusCode">The HTTP status of the refusal (0 when no valid response came).</param>
    /// <param name="message">What happened, in words.</param>
    /// <param name="inner">The underlying failure, if any.</param>
    public LoopWebSocketException(int statusCode, string message, Exception? inner = null) : base(message, inner)
    {
        CloseCode = WebSocketCloseCode.AbnormalClosure;
        HandshakeStatusCode = statusCode;
    }

    /// <summary>The close code that describes the failure (1006 when the connection dropped or the handshake failed).</summary>
    public WebSocketCloseCode CloseCode { get; }

    /// <summary>For a failed opening handshake: the HTTP status the server answered (0 when no valid response came); null otherwise.</summary>
    public int? HandshakeStatusCode { get; }
}
