using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile.Http.Server;

/// <summary>
/// TLS for an <see cref="HttpServer"/> (<see cref="HttpServerOptions.Https"/>): its certificates (one, or one per host
/// name with SNI), client certificates, and the handshake timeout. TLS 1.2 and 1.3 only; ALPN offers <c>http/1.1</c>;
/// session resumption (tickets) is on.
/// </summary>
/// <remarks>
/// The cipher suites are .NET's defaults (forward-secret; TLS 1.2 keeps two CBC suites per key type) unless
/// <see cref="CipherSuites"/> restricts them, which costs resumption (see docs/security.md).
/// </remarks>
public sealed record HttpsOptions
{
    /// <summary>The certificate for clients whose host name (SNI) matches nothing more specific, or that send none.</summary>
    public ServerCertificate? Certificate { get; init; }

    /// <summary>
    /// Certificates by host name (SNI), compared without case: an exact name (<c>api.example.com</c>) or one wildcard
    /// label (<c>*.example.com</c>, one level). A name that matches none gets <see cref="Certificate"/>.
    /// </summary>
    public IReadOnlyDictionary<string, ServerCertificate>? CertificatesByHost { get; init; }

    /// <summary>
    /// Picks a certificate for the host name a client asked for (null when it sent none), before
    /// <see cref="CertificatesByHost"/> and <see cref="Certificate"/> are tried; return null to fall through to them.
    /// Called on the loop thread during each full handshake: keep it fast.
    /// </summary>
    public Func<string?, ServerCertificate?>? CertificateSelector { get; init; }

    /// <summary>Whether clients are asked for certificates. Default: <see cref="ClientCertificatePolicy.None"/>.</summary>
    public ClientCertificatePolicy ClientCertificates { get; init; }

    /// <summary>
    /// Decides whether a client's certificate is accepted (with the chain built against the system's trust store and what
    /// was wrong with it); null accepts those without errors. Called for every client that presents one, and with a
    /// null certificate when <see cref="ClientCertificates"/> is <see cref="ClientCertificatePolicy.Required"/> and the
    /// client sent none.
    /// </summary>
    public Func<X509Certificate2?, X509Chain?, SslPolicyErrors, bool>? ClientCertificateValidation { get; init; }

    /// <summary>
    /// The cipher suites offered, in order of preference; null for .NET's defaults. With SslStream, setting them turns off
    /// session resumption and makes every handshake build its own OpenSSL context (.NET shares contexts, and with them
    /// the session tickets' keys, only without a cipher policy), so handshakes cost more; the OpenSSL engine keeps both.
    /// Ignored on Windows.
    /// </summary>
    public IReadOnlyList<System.Net.Security.TlsCipherSuite>? CipherSuites { get; init; }

    /// <summary>
    /// Which TLS engine runs the sessions; null (the default) picks OpenSSL on the socket's descriptor
    /// (<see cref="OpenSslServerEngine"/>) wherever it can (Linux with OpenSSL 3, the epoll reactor) and SslStream
    /// elsewhere. <see cref="TlsEngineKind.SslStream"/> keeps SslStream everywhere; <see cref="TlsEngineKind.OpenSsl"/>
    /// fails at start-up where OpenSSL 3 is missing (sockets without a descriptor, on the portable reactor, still use
    /// SslStream). Both serve every setting here alike.
    /// </summary>
    public TlsEngineKind? Engine { get; init; }

    /// <summary>Time allowed for the TLS handshake, from the accept; past it the connection is closed. Default: 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Every certificate these options name (the default and the SNI map's), each once.</summary>
    public IEnumerable<ServerCertificate> AllCertificates()
    {
        var seen = new HashSet<ServerCertificate>(ReferenceEqualityComparer.Instance);
        if (Certificate is not null && seen.Add(Certificate)) yield return Certificate;
        foreach (var certificate in CertificatesByHost?.Values ?? [])
        {
            if (seen.Add(certificate)) yield return certificate;
        }
    }

    /// <summary>
    /// Loads every file-based certificate again (<see cref="AllCertificates"/>) and switches to them all, or, if one
    /// fails, to none: the certificates in use stay and the exception names the file. Open connections are untouched;
    /// sessions established before are not resumed (clients get a full handshake, and the new certificates). Safe from
    /// any thread.
    /// </summary>
    /// <returns>How many certificates were reloaded.</returns>
    /// <exception cref="CertificateLoadException">A file cannot be read or its key does not match.</exception>
    public int ReloadCertificates()
    {
        var loaded = new List<(ServerCertificate Certificate, SslStreamCertificateContext Context)>();
        foreach (var certificate in AllCertificates())
        {
            if (certificate.LoadAgain() is { } context) loaded.Add((certificate, context));
        }
        foreach (var (certificate, context) in loaded) certificate.Use(context);
        // Sessions from before resume no more (with the OpenSSL engine: SslStream's keys go with its context).
        if (loaded.Count > 0) ServerTls.CertificatesReloaded(this);
        return loaded.Count;
    }

    internal void Validate()
    {
        if (Certificate is null && CertificateSelector is null && CertificatesByHost is not { Count: > 0 })
            throw new ArgumentException("HTTPS needs a certificate: set Certificate, CertificatesByHost or CertificateSelector.");
        if (HandshakeTimeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), HandshakeTimeout, "Zero turns it off; it cannot be negative.");
    }
}
