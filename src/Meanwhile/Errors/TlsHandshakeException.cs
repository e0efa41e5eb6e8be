namespace Meanwhile;

/// <summary>
/// A TLS handshake failed: the peer sent something that is not TLS, offered nothing this side accepts (protocol,
/// cipher, application protocol, certificate), or left before the handshake ended.
/// </summary>
public sealed class TlsHandshakeException : IOException
{
    /// <summary>Creates the exception for a handshake on <paramref name="subject"/>.</summary>
    /// <param name="subject">The connection, in words.</param>
    /// <param name="firstByte">The first byte the peer sent, if it sent any.</param>
    /// <param name="inner">What SslStream reported.</param>
    public TlsHandshakeException(string subject, byte? firstByte, Exception inner)
        : base(Describe(subject, firstByte, inner), inner)
    {
        FirstByte = firstByte;
    }

    /// <summary>The first byte the peer sent; null when it sent nothing before it left or the handshake was cut.</summary>
    public byte? FirstByte { get; }

    /// <summary>
    /// True when the peer's first byte cannot start a TLS handshake record (type 22): it speaks another protocol, such
    /// as plain HTTP sent to a TLS port.
    /// </summary>
    public bool IsNotTls => FirstByte is { } first && first != TlsRecordTypeHandshake;

    private const byte TlsRecordTypeHandshake = 0x16;

    private static string Describe(string subject, byte? firstByte, Exception inner) => firstByte switch
    {
        null => $"TLS handshake on {subject} failed before the peer sent anything: {inner.Message}",
        not TlsRecordTypeHandshake => $"TLS handshake on {subject} failed: the peer does not speak TLS (first byte 0x{firstByte:x2})",
        _ => $"TLS handshake on {subject} failed: {inner.Message}",
    };
}
