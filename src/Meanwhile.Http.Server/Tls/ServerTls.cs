using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile.Http.Server;

/// <summary>
/// The TLS side of one loop's connections: turns an accepted socket into a <see cref="TlsStream"/> under the handshake
/// timeout, picks the certificate for the host the client names (SNI), and answers plain HTTP sent to the TLS port with
/// a 400 that says so, as nginx does.
/// </summary>
/// <remarks>
/// <para>
/// The engine: OpenSSL on the socket's descriptor (<see cref="OpenSslServerEngine"/>) where the socket has one (the epoll
/// reactor) and OpenSSL 3 is there, unless <see cref="HttpsOptions.Engine"/> asks for SslStream; SslStream otherwise.
/// One OpenSSL engine per <see cref="HttpsOptions"/>, shared by every loop, so its session-ticket keys are too: a
/// client resumes on whichever loop accepts it.
/// </para>
/// <para>
/// One <see cref="SslServerAuthenticationOptions"/> per certificate context, built once and reused by every handshake
/// (a reload makes a new context, hence new options, and with the OpenSSL engine a new OpenSSL context for new
/// handshakes, while open sessions keep the old one): a handshake builds no chain and allocates no options. Loop
/// thread only.
/// </para>
/// </remarks>
internal sealed class ServerTls
{
    private static readonly List<SslApplicationProtocol> Alpn = [SslApplicationProtocol.Http11];

    private readonly LoopServer _server;
    private readonly HttpsOptions _options;
    private readonly Dictionary<string, ServerCertificate> _byHost = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<SslStreamCertificateContext, SslServerAuthenticationOptions> _built = new(ReferenceEqualityComparer.Instance);
    private readonly ServerOptionsSelectionCallback _select;
    private readonly RemoteCertificateValidationCallback? _validateClient;
    private readonly CipherSuitesPolicy? _ciphers;
    private readonly OpenSslServerEngine? _engine;

    private static readonly ConditionalWeakTable<HttpsOptions, OpenSslServerEngine> Engines = new();

    public ServerTls(LoopServer server, HttpsOptions options)
    {
        options.Validate();
        _server = server;
        _options = options;
        foreach (var (host, certificate) in options.CertificatesByHost ?? new Dictionary<string, ServerCertificate>()) _byHost[host] = certificate;
        _select = static (stream, hello, state, token) => new ValueTask<SslServerAuthenticationOptions>(((ServerTls)state!).OptionsFor(hello.ServerName));
        if (options.ClientCertificates != ClientCertificatePolicy.None) _validateClient = ValidateClient;
        if (options.CipherSuites is { } suites && !OperatingSystem.IsWindows()) _ciphers = new CipherSuitesPolicy(suites);
        if (options.Engine == TlsEngineKind.OpenSsl && !OpenSslServerEngine.IsAvailable)
            throw new PlatformNotSupportedException("HttpsOptions.Engine asks for OpenSSL, which needs libssl.so.3 (Linux with OpenSSL 3).");
        if (options.Engine != TlsEngineKind.SslStream && OpenSslServerEngine.IsAvailable)
            _engine = Engines.GetValue(options, static o => new OpenSslServerEngine(static (host, state) => ((ServerTls)state!).OptionsFor(host), o.CipherSuites));
    }

    public TimeSpan HandshakeTimeout => _options.HandshakeTimeout;

    /// <summary>New certificates: the OpenSSL engine of <paramref name="options"/>, if any, starts new ticket keys.</summary>
    internal static void CertificatesReloaded(HttpsOptions options)
    {
        if (Engines.TryGetValue(options, out var engine)) engine.RotateSessionTicketKeys();
    }

    /// <summary>
    /// Runs the handshake on <paramref name="socket"/>. Returns the TLS stream, or null when the handshake failed; then
    /// <c>Answered</c> says a 400 went out in plain text (the client spoke HTTP) and the connection should linger.
    /// </summary>
    public async ValueTask<(TlsStream? Stream, bool Answered)> HandshakeAsync(ServerConnection connection, SocketStream socket)
    {
        _server.Timeouts.HandshakeStarted(connection);
        try
        {
            // OpenSSL on the descriptor: its waits complete on the loop, so it resumes inline. SslStream's handshake is
            // Task-backed: awaited plainly, so it resumes on the loop.
            if (_engine is not null && socket.Descriptor >= 0) return (await TlsStream.AcceptAsync(socket, _engine, this).ConfigureAwait(false), false);
            return (await TlsStream.AcceptAsync(socket, _select, this), false);
        }
        catch (TlsHandshakeException e)
        {
            ServerLog.HandshakeFailed(_server.Logger, connection.Remote, e.Message);
            if (!e.IsNotTls || e.FirstByte is not (>= (byte)'A' and <= (byte)'Z') || connection.IsAborted) return (null, false);
            await AnswerPlainHttpAsync(socket);
            return (null, true);
        }
    }

    /// <summary>The certificate for <paramref name="host"/>: the selector's, the map's (exact, then one wildcard label), or the default.</summary>
    internal ServerCertificate? CertificateFor(string? host)
    {
        if (_options.CertificateSelector?.Invoke(host) is { } chosen) return chosen;
        if (!string.IsNullOrEmpty(host) && _byHost.Count > 0)
        {
            if (_byHost.TryGetValue(host, out var exact)) return exact;
            int dot = host.IndexOf('.');
            if (dot > 0 && _byHost.TryGetValue(string.Concat("*", host.AsSpan(dot)), out var wildcard)) return wildcard;
        }
        return _options.Certificate;
    }

    private SslServerAuthenticationOptions OptionsFor(string? host)
    {
        var certificate = CertificateFor(host) ?? throw new AuthenticationException($"No certificate for the host name '{host}'.");
        var context = certificate.Context;
        if (_built.TryGetValue(context, out var options)) return options;
        options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = context,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            // A cipher policy costs resumption and a new OpenSSL context per handshake (.NET caches contexts only without one).
            CipherSuitesPolicy = _ciphers,
            ApplicationProtocols = Alpn,
            AllowTlsResume = true,
            ClientCertificateRequired = _options.ClientCertificates != ClientCertificatePolicy.None,
            RemoteCertificateValidationCallback = _validateClient,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        // Stale entries (a reload replaced their context) go, so reloading every day does not grow the cache.
        foreach (var stale in _built.Keys.Where(k => !IsInUse(k)).ToList()) _built.Remove(stale);
        _built[context] = options;
        return options;
    }

    private bool IsInUse(SslStreamCertificateContext context) =>
        _options.AllCertificates().Any(c => ReferenceEquals(c.Context, context));

    private bool ValidateClient(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null && _options.ClientCertificates == ClientCertificatePolicy.Optional) return true;
        var client = certificate as X509Certificate2 ?? (certificate is null ? null : new X509Certificate2(certificate));
        if (_options.ClientCertificateValidation is { } validate) return validate(client, chain, errors);
        return errors == SslPolicyErrors.None;
    }

    private async ValueTask AnswerPlainHttpAsync(SocketStream socket)
    {
        var output = new PooledByteBuffer(256);
        try
        {
            ReadOnlySpan<byte> body = "The plain HTTP request was sent to the HTTPS port.\n"u8;
            HttpHeadWriter.WriteStatusLine(output, HttpProtocolVersion.Http11, 400, HttpReasonPhrases.Get(400));
            output.Write(_server.Date.Line);
            _server.WriteServerHeader(output);
            HttpHeadWriter.WriteField(output, "Content-Type", "text/plain; charset=utf-8");
            HttpHeadWriter.WriteContentLength(output, body.Length);
            output.Write("Connection: close\r\n\r\n"u8);
            output.Write(body);
            ServerMetrics.Rejected.Add(1);
            await socket.WriteAsync(output.WrittenMemory).ConfigureAwait(false);
        }
        finally
        {
            output.Release();
        }
    }
}
