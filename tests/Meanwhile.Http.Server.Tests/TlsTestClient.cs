using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Meanwhile.Http.Server.Tests;

/// <summary>A blocking TLS client for one test (no thread pool: it reads and writes on the test's thread), trusting one certificate.</summary>
internal sealed class TlsTestClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[65536];
    private readonly MemoryStream _pending = new();

    private TlsTestClient(Socket socket, SslStream ssl)
    {
        _socket = socket;
        Ssl = ssl;
    }

    public SslStream Ssl { get; }

    public Socket Socket => _socket;

    /// <summary>The certificate the server presented.</summary>
    public X509Certificate2 ServerCertificate => new(Ssl.RemoteCertificate!);

    /// <summary>Connects and handshakes; trusts the server's certificate when <paramref name="trusted"/> is null, else only that one.</summary>
    public static TlsTestClient Connect(int port, string host = "localhost", X509Certificate2? trusted = null, X509Certificate2? clientCertificate = null,
        SslProtocols protocols = SslProtocols.None, List<SslApplicationProtocol>? alpn = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        socket.Connect(IPAddress.Loopback, port);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        try
        {
            ssl.AuthenticateAsClient(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                EnabledSslProtocols = protocols,
                ApplicationProtocols = alpn ?? [SslApplicationProtocol.Http11],
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    trusted is null || (certificate is not null && new X509Certificate2(certificate).Thumbprint == trusted.Thumbprint),
            });
        }
        catch
        {
            ssl.Dispose();
            socket.Dispose();
            throw;
        }
        return new TlsTestClient(socket, ssl);
    }

    /// <summary>Sends a GET and reads its response (Content-Length framed).</summary>
    public (int Status, string Head, string Body) Get(string path, string host = "localhost")
    {
        Ssl.Write(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n"));
        return ReadResponse();
    }

    public (int Status, string Head, string Body) ReadResponse()
    {
        while (true)
        {
            var text = Encoding.Latin1.GetString(_pending.GetBuffer(), 0, (int)_pending.Length);
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                string head = text[..end];
                int length = 0;
                foreach (var line in head.Split("\r\n"))
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
                if (text.Length >= end + 4 + length)
                {
                    var rest = Encoding.Latin1.GetBytes(text[(end + 4 + length)..]);
                    _pending.SetLength(0);
                    _pending.Write(rest);
                    return (int.Parse(head.Substring(9, 3)), head, text.Substring(end + 4, length));
                }
            }
            int n = Ssl.Read(_buffer);
            if (n == 0) throw new EndOfStreamException($"the server closed the TLS connection; pending: {text}");
            _pending.Write(_buffer, 0, n);
        }
    }

    public void Dispose()
    {
        Ssl.Dispose();
        _socket.Dispose();
    }
}
