using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile;

/// <summary>
/// The engine under a <see cref="TlsStream"/>: SslStream over the socket's stream adapter (<see cref="TlsLayer"/>), or
/// OpenSSL on the socket's descriptor (<see cref="OpenSslSession"/>). The stream's reads, writes and closes go to it,
/// and so do the questions about the session.
/// </summary>
internal abstract class TlsSessionLayer : PlatformStream
{
    /// <summary>The socket under the session.</summary>
    public abstract SocketStream Socket { get; }

    /// <summary>The application protocol agreed with ALPN (empty when none was).</summary>
    public abstract SslApplicationProtocol NegotiatedApplicationProtocol { get; }

    /// <summary>The TLS version in use.</summary>
    public abstract SslProtocols Protocol { get; }

    /// <summary>The cipher suite in use.</summary>
    public abstract TlsCipherSuite CipherSuite { get; }

    /// <summary>The host name the client asked for (SNI) on a server; the target host on a client.</summary>
    public abstract string HostName { get; }

    /// <summary>The peer's certificate, when it sent one.</summary>
    public abstract X509Certificate? RemoteCertificate { get; }
}
