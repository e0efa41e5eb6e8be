namespace Meanwhile.Http.WebSockets;

/// <summary>
/// The status codes of a close frame (RFC 6455 7.4.1). Any value from 3000 to 4999 is valid too (registered and
/// private codes): cast it, e.g. <c>(WebSocketCloseCode)4000</c>.
/// </summary>
public enum WebSocketCloseCode : ushort
{
    /// <summary>1000: the purpose of the connection is fulfilled.</summary>
    NormalClosure = 1000,

    /// <summary>1001: the endpoint goes away (a server shutting down, a page navigated away, an idle timeout).</summary>
    GoingAway = 1001,

    /// <summary>1002: the peer broke the protocol.</summary>
    ProtocolError = 1002,

    /// <summary>1003: a kind of data the endpoint cannot accept (binary where only text is understood).</summary>
    UnsupportedData = 1003,

    /// <summary>1005: the close frame carried no code. Never sent; reported when the peer sent none.</summary>
    NoStatusReceived = 1005,

    /// <summary>1006: the connection ended without a close frame. Never sent; reported when the TCP connection dropped.</summary>
    AbnormalClosure = 1006,

    /// <summary>1007: a text message (or a close reason) that is not valid UTF-8.</summary>
    InvalidPayloadData = 1007,

    /// <summary>1008: a message that violates the endpoint's policy.</summary>
    PolicyViolation = 1008,

    /// <summary>1009: a message larger than the endpoint accepts.</summary>
    MessageTooBig = 1009,

    /// <summary>1010: (client) the server did not negotiate an extension the client requires.</summary>
    MandatoryExtension = 1010,

    /// <summary>1011: (server) an unexpected condition prevented it from fulfilling the request.</summary>
    InternalServerError = 1011,
}
