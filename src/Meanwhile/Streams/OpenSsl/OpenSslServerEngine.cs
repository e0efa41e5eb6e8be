using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using static Meanwhile.OpenSslNative;

namespace Meanwhile;

/// <summary>
/// Server-side TLS with OpenSSL (libssl.so.3) called directly on the accepted socket's descriptor, on the loop thread,
/// as nginx does: the loop only waits for readiness. A handshake through it
/// (<see cref="TlsStream.AcceptAsync(SocketStream, OpenSslServerEngine, object?, CancellationToken)"/>) gives the same
/// <see cref="TlsStream"/> as SslStream's path, at a fraction of SslStream's cost per handshake and per record.
/// </summary>
/// <remarks>
/// <para>
/// Each handshake's options come from the selection callback, given the host name the client asked for (SNI) once its
/// hello arrives: the certificate (<see cref="SslServerAuthenticationOptions.ServerCertificateContext"/> or
/// <see cref="SslServerAuthenticationOptions.ServerCertificate"/>), ALPN
/// (<see cref="SslServerAuthenticationOptions.ApplicationProtocols"/>), client certificates
/// (<see cref="SslServerAuthenticationOptions.ClientCertificateRequired"/> and
/// <see cref="SslServerAuthenticationOptions.RemoteCertificateValidationCallback"/>) and cipher suites
/// (<see cref="SslServerAuthenticationOptions.CipherSuitesPolicy"/>). Each options object gets one OpenSSL context,
/// built on first use and freed once the options object is collected and no session uses it (OpenSSL counts
/// references): a reload that hands out new options leaves open connections on the old context.
/// </para>
/// <para>
/// TLS 1.2 and 1.3 only, whatever the options say; renegotiation and compression off; session tickets on, their keys
/// held by the engine's own context, so every certificate's sessions and every loop sharing the engine resume them.
/// Without a cipher policy the TLS 1.2 suites are .NET's default list (forward-secret), unless OpenSSL's configuration
/// names its own (<c>system_default</c> CipherString), which is then obeyed, as .NET does.
/// </para>
/// <para>Usable from several loops at once; the selection callback is then called on each of them.</para>
/// </remarks>
public sealed class OpenSslServerEngine
{
    // .NET's default TLS 1.2 list on OpenSSL (what SslStream offers without a CipherSuitesPolicy; HttpsEngineTests compares).
    private const string DotNetDefaultCipherList =
        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:" +
        "ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256";

    private static readonly byte[] SessionIdContext = "meanwhile"u8.ToArray();
    private static readonly Lazy<bool> ConfigurationNamesCiphers = new(DetectConfiguredCipherList);

    private readonly Func<string?, object?, SslServerAuthenticationOptions> _selectOptions;
    private readonly ConditionalWeakTable<SslServerAuthenticationOptions, CertificateContext> _contexts = new();
    private readonly TlsCipherSuite[]? _cipherSuites;
    private volatile FrontContext _front;

    /// <summary>Creates the engine.</summary>
    /// <param name="selectOptions">
    /// Gives the options for a handshake from the host name the client asked for (null when it sent none) and the state
    /// passed to <see cref="TlsStream.AcceptAsync(SocketStream, OpenSslServerEngine, object?, CancellationToken)"/>.
    /// Called on the loop thread during each handshake; return the same options object for the same certificate (each
    /// new one builds an OpenSSL context); throw to refuse the handshake.
    /// </param>
    /// <exception cref="PlatformNotSupportedException">OpenSSL 3 is not there (<see cref="IsAvailable"/>).</exception>
    /// <param name="cipherSuites">
    /// The cipher suites offered, in order of preference, for every handshake; null for the defaults (see remarks). TLS
    /// 1.3 picks its suite before the client's host name is known, so only this list restricts TLS 1.3; an options
    /// object's <see cref="SslServerAuthenticationOptions.CipherSuitesPolicy"/> restricts TLS 1.2 further.
    /// </param>
    public OpenSslServerEngine(Func<string?, object?, SslServerAuthenticationOptions> selectOptions, IEnumerable<TlsCipherSuite>? cipherSuites = null)
    {
        ArgumentNullException.ThrowIfNull(selectOptions);
        if (!IsAvailable) throw new PlatformNotSupportedException("The OpenSSL engine needs libssl.so.3 and libcrypto.so.3 (Linux with OpenSSL 3).");
        _selectOptions = selectOptions;
        _cipherSuites = cipherSuites?.ToArray();
        _front = new FrontContext(NewFrontContext());
    }

    /// <summary>Whether this process can use the engine: Linux with OpenSSL 3 (libssl.so.3).</summary>
    public static bool IsAvailable => OpenSslNative.IsAvailable;

    /// <summary>
    /// Starts new session-ticket keys (and an empty session cache): sessions established from now on resume, those
    /// from before get a full handshake. Call it when certificates change (HTTPS servers do on a reload), so that every
    /// client sees the new certificate. Open connections are untouched. Safe from any thread.
    /// </summary>
    public void RotateSessionTicketKeys() => _front = new FrontContext(NewFrontContext());

    private nint NewFrontContext()
    {
        nint context = NewContext();
        if (_cipherSuites is not null) UseCipherSuites(context, _cipherSuites);
        return context;
    }

    /// <summary>A new session in the current front context (no certificate: the SNI callback switches to one).</summary>
    internal nint NewSession()
    {
        var front = _front;
        nint ssl = SSL_new(front.Handle); // the session holds its own reference to the context
        GC.KeepAlive(front);
        return ssl;
    }

    internal SslServerAuthenticationOptions SelectOptions(string? host, object? state) => _selectOptions(host, state);

    /// <summary>The OpenSSL context of <paramref name="options"/>, built on first use.</summary>
    internal CertificateContext ContextFor(SslServerAuthenticationOptions options) =>
        _contexts.TryGetValue(options, out var context) ? context : BuildContext(options);

    private CertificateContext BuildContext(SslServerAuthenticationOptions options)
    {
        lock (_contexts)
        {
            if (_contexts.TryGetValue(options, out var existing)) return existing;
            nint handle = NewContext();
            try
            {
                UseCertificate(handle, options);
                if (options.CipherSuitesPolicy is { } policy && !OperatingSystem.IsWindows()) UseCipherSuites(handle, policy.AllowedCipherSuites);
                else if (_cipherSuites is not null) UseCipherSuites(handle, _cipherSuites);
            }
            catch
            {
                SSL_CTX_free(handle);
                throw;
            }
            var context = new CertificateContext(handle);
            _contexts.Add(options, context);
            return context;
        }
    }

    /// <summary>A context with every setting sessions share; the certificate and the cipher policy are the caller's.</summary>
    private unsafe nint NewContext()
    {
        nint context = SSL_CTX_new(TLS_server_method());
        if (context == 0) throw new CryptographicException(TakeErrors("SSL_CTX_new failed"));
        SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, 0);
        SSL_CTX_ctrl(context, SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_3_VERSION, 0);
        // No renegotiation (a read never has to write), no compression (CRIME); a peer that closes without close_notify
        // ends the stream as browsers expect (HTTP frames its own messages, so a cut body is still caught above TLS).
        SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
        // Release buffers: an idle connection holds no TLS read or write buffer. Moving write buffer: a retried write
        // may come from a buffer the GC moved. Partial writes: the engine loops itself.
        SSL_CTX_ctrl(context, SSL_CTRL_MODE, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE, 0);
        // Read ahead: one recv per record (or several) instead of one for the header and one for the body, as SslStream
        // reads into its buffer; bytes read ahead count as pending, so a zero-byte read still returns at once for them.
        SSL_CTX_ctrl(context, SSL_CTRL_SET_READ_AHEAD, 1, 0);
        SSL_CTX_ctrl(context, SSL_CTRL_SET_SESS_CACHE_MODE, SSL_SESS_CACHE_SERVER, 0);
        fixed (byte* id = SessionIdContext) SSL_CTX_set_session_id_context(context, id, (uint)SessionIdContext.Length);
        if (!ConfigurationNamesCiphers.Value)
        {
            fixed (byte* list = Encoding.ASCII.GetBytes(DotNetDefaultCipherList + "\0")) SSL_CTX_set_cipher_list(context, list);
        }
        SSL_CTX_callback_ctrl(context, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB, (nint)(delegate* unmanaged<nint, int*, nint, int>)&OnServerName);
        SSL_CTX_set_alpn_select_cb(context, &OnAlpn, 0);
        SSL_CTX_set_cert_verify_callback(context, &OnVerifyCertificate, 0);
        ERR_clear_error();
        return context;
    }

    /// <summary>Puts the options' certificate, key and chain in <paramref name="context"/>.</summary>
    private static void UseCertificate(nint context, SslServerAuthenticationOptions options)
    {
        X509Certificate2 leaf;
        IEnumerable<X509Certificate2>? chain = null;
        if (options.ServerCertificateContext is { } certificateContext)
        {
            leaf = certificateContext.TargetCertificate;
            chain = certificateContext.IntermediateCertificates;
        }
        else if (options.ServerCertificate is { } certificate)
        {
            leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        }
        else throw new ArgumentException("The options have no server certificate.", nameof(options));

        byte[] pkcs8 = ExportPrivateKey(leaf);
        try
        {
            nint x509 = ImportCertificate(leaf.RawData);
            nint key = ImportPrivateKey(pkcs8);
            try
            {
                if (x509 == 0 || key == 0 || SSL_CTX_use_certificate(context, x509) != 1 || SSL_CTX_use_PrivateKey(context, key) != 1 || SSL_CTX_check_private_key(context) != 1)
                    throw new CryptographicException($"OpenSSL refused the certificate {leaf.Subject} or its key: {TakeErrors("no detail")}");
            }
            finally
            {
                if (x509 != 0) X509_free(x509);
                if (key != 0) EVP_PKEY_free(key);
            }
            foreach (var intermediate in chain ?? [])
            {
                nint link = ImportCertificate(intermediate.RawData);
                // SSL_CTX_add1_chain_cert: the context takes its own reference.
                bool added = link != 0 && SSL_CTX_ctrl(context, SSL_CTRL_CHAIN_CERT, 1, link) == 1;
                if (link != 0) X509_free(link);
                if (!added) throw new CryptographicException($"OpenSSL refused the chain certificate {intermediate.Subject}: {TakeErrors("no detail")}");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static byte[] ExportPrivateKey(X509Certificate2 certificate)
    {
        if (certificate.GetECDsaPrivateKey() is { } ec) using (ec) return ec.ExportPkcs8PrivateKey();
        if (certificate.GetRSAPrivateKey() is { } rsa) using (rsa) return rsa.ExportPkcs8PrivateKey();
        throw new ArgumentException($"The certificate {certificate.Subject} has no ECDSA or RSA private key.");
    }

    /// <summary>A cipher policy in OpenSSL's terms: TLS 1.3 suites by their (IANA) names, TLS 1.2 ones by OpenSSL's names.</summary>
    private unsafe void UseCipherSuites(nint context, IEnumerable<TlsCipherSuite> suites)
    {
        nint probe = SSL_new(context);
        var tls13 = new List<string>();
        var tls12 = new List<string>();
        byte* bytes = stackalloc byte[2];
        try
        {
            foreach (var suite in suites)
            {
                ushort id = (ushort)suite;
                bytes[0] = (byte)(id >> 8);
                bytes[1] = (byte)id;
                nint cipher = SSL_CIPHER_find(probe, bytes);
                if (cipher == 0) continue; // a suite this OpenSSL does not know
                string name = Marshal.PtrToStringUTF8(SSL_CIPHER_get_name(cipher))!;
                (id >> 8 == 0x13 ? tls13 : tls12).Add(name);
            }
        }
        finally
        {
            SSL_free(probe);
        }
        fixed (byte* list = Encoding.ASCII.GetBytes(string.Join(':', tls13) + "\0")) SSL_CTX_set_ciphersuites(context, list);
        // "!ALL" when no TLS 1.2 suite is allowed: an empty list would be refused and leave the default.
        string tls12List = tls12.Count > 0 ? string.Join(':', tls12) : "!ALL";
        fixed (byte* list = Encoding.ASCII.GetBytes(tls12List + "\0")) SSL_CTX_set_cipher_list(context, list);
        ERR_clear_error();
    }

    /// <summary>
    /// Whether OpenSSL's configuration gave contexts a cipher list of their own (system_default): a fresh context's list
    /// then differs from OpenSSL's built-in default. .NET obeys such a list, and so does the engine.
    /// </summary>
    private static unsafe bool DetectConfiguredCipherList()
    {
        nint fresh = SSL_CTX_new(TLS_server_method());
        nint builtIn = SSL_CTX_new(TLS_server_method());
        try
        {
            fixed (byte* list = "ALL:!COMPLEMENTOFDEFAULT:!eNULL\0"u8) SSL_CTX_set_cipher_list(builtIn, list);
            return !CipherNames(fresh).SequenceEqual(CipherNames(builtIn));
        }
        finally
        {
            SSL_CTX_free(fresh);
            SSL_CTX_free(builtIn);
            ERR_clear_error();
        }

        static List<string> CipherNames(nint context)
        {
            var names = new List<string>();
            nint stack = SSL_CTX_get_ciphers(context);
            int count = stack == 0 ? 0 : OPENSSL_sk_num(stack);
            for (int i = 0; i < count; i++) names.Add(Marshal.PtrToStringUTF8(SSL_CIPHER_get_name(OPENSSL_sk_value(stack, i)))!);
            return names;
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnServerName(nint ssl, int* alert, nint argument)
    {
        try
        {
            return OpenSslSession.FromHandle(ssl)?.SelectContext() == true ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_ALERT_FATAL;
        }
        catch (Exception e)
        {
            OpenSslSession.FromHandle(ssl)?.CallbackFailed(e); // "no certificate for this host", or the selector's own bug
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe int OnAlpn(nint ssl, byte** output, byte* outputLength, byte* offered, uint offeredLength, nint argument)
    {
        try
        {
            var protocols = OpenSslSession.FromHandle(ssl)?.Options?.ApplicationProtocols;
            if (protocols is not { Count: > 0 }) return SSL_TLSEXT_ERR_NOACK;
            var list = new ReadOnlySpan<byte>(offered, (int)offeredLength);
            foreach (var protocol in protocols) // the server's preference first
            {
                var wanted = protocol.Protocol.Span;
                for (int i = 0; i < list.Length;)
                {
                    int length = list[i];
                    if (i + 1 + length > list.Length) break;
                    if (list.Slice(i + 1, length).SequenceEqual(wanted))
                    {
                        *output = offered + i + 1;
                        *outputLength = (byte)length;
                        return SSL_TLSEXT_ERR_OK;
                    }
                    i += 1 + length;
                }
            }
            return SSL_TLSEXT_ERR_ALERT_FATAL; // no_application_protocol, as SslStream and nginx answer
        }
        catch (Exception e)
        {
            OpenSslSession.FromHandle(ssl)?.CallbackFailed(e);
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
    }

    [UnmanagedCallersOnly]
    private static int OnVerifyCertificate(nint storeContext, nint argument)
    {
        OpenSslSession? session = null;
        try
        {
            session = OpenSslSession.FromHandle(X509_STORE_CTX_get_ex_data(storeContext, SSL_get_ex_data_X509_STORE_CTX_idx()));
            return session?.ValidateClientCertificate(storeContext) == true ? 1 : 0;
        }
        catch (Exception e)
        {
            session?.CallbackFailed(e); // the user's validation callback threw
            return 0;
        }
        finally
        {
            // The validation used .NET's cryptography, on this thread's OpenSSL error queue: leave it empty.
            ERR_clear_error();
        }
    }

    /// <summary>The engine's own context: ticket keys, session cache, and the callbacks every handshake starts with. Freed once unreachable (sessions hold their own references).</summary>
    private sealed class FrontContext(nint handle)
    {
        public nint Handle { get; } = handle;

        ~FrontContext() => SSL_CTX_free(Handle);
    }

    /// <summary>One options object's OpenSSL context; its reference goes when the options are collected (sessions hold their own).</summary>
    internal sealed class CertificateContext(nint handle)
    {
        public nint Handle { get; } = handle;

        ~CertificateContext() => SSL_CTX_free(Handle);
    }
}
