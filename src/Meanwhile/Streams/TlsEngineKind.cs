namespace Meanwhile;

/// <summary>Which engine runs a TLS session (<see cref="TlsStream.Engine"/>).</summary>
public enum TlsEngineKind
{
    /// <summary>.NET's SslStream over the socket's stream adapter (OpenSSL underneath on Linux).</summary>
    SslStream,

    /// <summary>OpenSSL called directly on the socket's descriptor (<see cref="OpenSslServerEngine"/>).</summary>
    OpenSsl,
}
