using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using static Meanwhile.OpenSslNative;

namespace Meanwhile;

/// <summary>
/// One TLS session of an <see cref="OpenSslServerEngine"/>: OpenSSL reads and writes the socket's descriptor itself
/// (its socket BIO), and when it would block the session waits for readiness through the socket's own waits (a
/// zero-byte read, <see cref="SocketStream.WaitWritableAsync"/>), so everything runs on the loop thread with no buffer
/// of the session's own.
/// </summary>
/// <remarks>
/// OpenSSL's error queue is per thread and <c>SSL_get_error</c> needs it empty before each call. Every path here that
/// sees a failure empties it (and the callbacks empty it after .NET's cryptography ran), so successful reads and writes
/// call nothing but <c>SSL_read</c>/<c>SSL_write</c>; a handshake starts by checking it (one cheap peek), since code
/// outside the engine may have left errors on this thread.
/// </remarks>
internal sealed class OpenSslSession : TlsSessionLayer
{
    private const int AppDataIndex = 0; // SSL_set_app_data

    // Plaintext below this, with nothing left pending, means OpenSSL's read-ahead recv came back short (see TryRead):
    // filling its 16 KiB buffer with records that carry less than 8 KiB would take hundreds of tiny records.
    private const int DrainedBelow = 8192;

    private readonly SocketStream _socket;
    private readonly OpenSslServerEngine _engine;
    private readonly object? _state;
    private nint _ssl;
    private GCHandle _self;
    private string? _hostName;
    private X509Certificate2? _remoteCertificate;
    private bool _remoteCertificateRead;
    private SslApplicationProtocol _alpn;
    private bool _alpnRead;
    private bool _reading;
    private bool _writing;
    private bool _readEnded;
    private bool _closeNotifySent;
    private bool _handshakeDone;
    private bool _nothingPending; // the last SSL_read left no plaintext and no record bytes behind (checked by TryRead)
    private int _firstByte = -1;
    private Exception? _callbackError; // the first exception one of our callbacks swallowed to answer OpenSSL with a failure

    public OpenSslSession(SocketStream socket, OpenSslServerEngine engine, object? state)
    {
        _socket = socket;
        _engine = engine;
        _state = state;
        _ssl = engine.NewSession();
        if (_ssl == 0) throw new IOException($"OpenSSL could not start a session on {socket.Description}: {TakeErrors("SSL_new failed")}");
        _self = GCHandle.Alloc(this);
        SSL_set_ex_data(_ssl, AppDataIndex, GCHandle.ToIntPtr(_self));
        SSL_set_fd(_ssl, socket.Descriptor);
        SSL_set_accept_state(_ssl);
    }

    /// <summary>The options the SNI callback chose for this session.</summary>
    public SslServerAuthenticationOptions? Options { get; private set; }

    public override string Description => "tls " + _socket.Description;

    public override bool GuardsConcurrentOperations => true;

    public override SocketStream Socket => _socket;

    public override SslApplicationProtocol NegotiatedApplicationProtocol
    {
        get
        {
            if (!_alpnRead && _ssl != 0)
            {
                _alpnRead = true;
                _alpn = ReadAlpn();
            }
            return _alpn;
        }
    }

    public override SslProtocols Protocol => _ssl == 0 ? SslProtocols.None : SSL_version(_ssl) switch
    {
        TLS1_3_VERSION => SslProtocols.Tls13,
        TLS1_2_VERSION => SslProtocols.Tls12,
        _ => SslProtocols.None,
    };

    public override TlsCipherSuite CipherSuite
    {
        get
        {
            if (_ssl == 0) return default;
            nint cipher = SSL_get_current_cipher(_ssl);
            return cipher == 0 ? default : (TlsCipherSuite)SSL_CIPHER_get_protocol_id(cipher);
        }
    }

    public override string HostName => _hostName ?? "";

    public override X509Certificate? RemoteCertificate
    {
        get
        {
            if (!_remoteCertificateRead && _ssl != 0)
            {
                // A resumed session carries the certificate of the handshake that validated it.
                _remoteCertificateRead = true;
                nint peer = SSL_get1_peer_certificate(_ssl);
                if (peer != 0)
                {
                    _remoteCertificate = X509CertificateLoader.LoadCertificate(ExportCertificate(peer));
                    X509_free(peer);
                }
            }
            return _remoteCertificate;
        }
    }

    /// <summary>The session an OpenSSL callback is about, or null.</summary>
    public static OpenSslSession? FromHandle(nint ssl)
    {
        nint self = ssl == 0 ? 0 : SSL_get_ex_data(ssl, AppDataIndex);
        return self == 0 ? null : GCHandle.FromIntPtr(self).Target as OpenSslSession;
    }

    /// <summary>
    /// Runs the handshake. The first byte is peeked before OpenSSL reads anything (as nginx does), so a failure can
    /// tell plain HTTP from a broken TLS hello; the peek also waits for the hello without a failed OpenSSL call.
    /// </summary>
    /// <exception cref="TlsHandshakeException">The handshake failed; the session is freed, the socket left open.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask HandshakeAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!PeekFirstByte()) await _socket.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            if (ERR_peek_error() != 0) ERR_clear_error(); // left by code outside the engine on this thread
            while (true)
            {
                CheckOpen();
                int result = SSL_do_handshake(_ssl);
                if (result == 1) break;
                int error = SSL_get_error(_ssl, result);
                if (error == SSL_ERROR_WANT_READ) await _socket.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                else if (error == SSL_ERROR_WANT_WRITE) await _socket.WaitWritableAsync(cancellationToken).ConfigureAwait(false);
                else throw HandshakeFailed(error);
            }
            _handshakeDone = true;
            CheckClientCertificateGiven();
        }
        catch (TlsHandshakeException)
        {
            Free();
            throw;
        }
        catch (IOException e) when (e is not SystemCallException)
        {
            Free();
            throw new TlsHandshakeException(_socket.Description, FirstByte, e);
        }
        catch (SystemCallException e)
        {
            // A reset or a broken pipe mid-handshake: the client aborted.
            Free();
            throw new TlsHandshakeException(_socket.Description, FirstByte, e);
        }
        catch
        {
            Free();
            throw;
        }
    }

    private byte? FirstByte => _firstByte < 0 ? null : (byte)_firstByte;

    private unsafe bool PeekFirstByte()
    {
        int fd = _socket.Descriptor;
        if (fd < 0) throw new ObjectDisposedException(_socket.Description);
        byte first;
        nint n = LinuxNative.recv(fd, &first, 1, LinuxNative.MSG_PEEK | LinuxNative.MSG_DONTWAIT);
        if (n > 0)
        {
            _firstByte = first;
            return true;
        }
        if (n == 0) throw new TlsHandshakeException(_socket.Description, null, new IOException("the peer closed the connection before its hello"));
        int errno = LinuxNative.LastErrno;
        if (errno == Errno.EAGAIN || errno == Errno.EINTR) return false;
        throw new TlsHandshakeException(_socket.Description, null, SystemErrors.From("recv", errno, _socket.Description));
    }

    /// <summary>Called by the SNI callback: asks for the options for the host the client named and switches to their context.</summary>
    internal bool SelectContext()
    {
        nint name = SSL_get_servername(_ssl, TLSEXT_NAMETYPE_host_name);
        _hostName = name == 0 ? null : Marshal.PtrToStringUTF8(name);
        var options = _engine.SelectOptions(_hostName, _state);
        var context = _engine.ContextFor(options);
        Options = options;
        SSL_set_SSL_CTX(_ssl, context.Handle);
        if (options.ClientCertificateRequired) SSL_set_verify(_ssl, SSL_VERIFY_PEER, 0);
        return true;
    }

    /// <summary>Called by OpenSSL when a client presents a certificate: the options' validation callback decides.</summary>
    internal bool ValidateClientCertificate(nint storeContext)
    {
        var leaf = X509CertificateLoader.LoadCertificate(ExportCertificate(X509_STORE_CTX_get0_cert(storeContext)));
        _remoteCertificate = leaf;
        _remoteCertificateRead = true;
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true; // no network wait on the loop thread: the client sends its chain
        nint untrusted = X509_STORE_CTX_get0_untrusted(storeContext);
        int count = untrusted == 0 ? 0 : OPENSSL_sk_num(untrusted);
        for (int i = 0; i < count; i++)
        {
            var certificate = X509CertificateLoader.LoadCertificate(ExportCertificate(OPENSSL_sk_value(untrusted, i)));
            if (certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)) continue;
            chain.ChainPolicy.ExtraStore.Add(certificate);
        }
        var errors = chain.Build(leaf) ? SslPolicyErrors.None : SslPolicyErrors.RemoteCertificateChainErrors;
        return Options?.RemoteCertificateValidationCallback is { } validate ? validate(_socket, leaf, chain, errors) : errors == SslPolicyErrors.None;
    }

    /// <summary>A client asked for a certificate that sent none: the validation callback decides (with none), as SslStream does.</summary>
    private void CheckClientCertificateGiven()
    {
        if (Options is not { ClientCertificateRequired: true } options || RemoteCertificate is not null) return;
        bool accepted = options.RemoteCertificateValidationCallback is { } validate && validate(_socket, null, null, SslPolicyErrors.RemoteCertificateNotAvailable);
        ERR_clear_error();
        if (!accepted)
            throw new TlsHandshakeException(_socket.Description, FirstByte, new AuthenticationException("The client sent no certificate, and one is required."));
    }

    private unsafe SslApplicationProtocol ReadAlpn()
    {
        byte* data;
        uint length;
        SSL_get0_alpn_selected(_ssl, &data, &length);
        if (length == 0) return default;
        var selected = new ReadOnlySpan<byte>(data, (int)length);
        return selected.SequenceEqual(SslApplicationProtocol.Http11.Protocol.Span) ? SslApplicationProtocol.Http11 : new SslApplicationProtocol(selected.ToArray());
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_ssl == 0) return ValueTask.FromException<int>(new ObjectDisposedException(Description));
        if (_reading) throw new InvalidOperationException($"A read is already in progress on {Description}; one reader at a time.");
        if (buffer.IsEmpty)
        {
            // Wait for data holding nothing: OpenSSL released its read buffer when it emptied (SSL_MODE_RELEASE_BUFFERS).
            // TryRead already asked after a short read (the usual case between keep-alive requests): ask once per request.
            if (_readEnded || (!_nothingPending && SSL_has_pending(_ssl) != 0)) return new ValueTask<int>(0);
            return _socket.ReadAsync(Memory<byte>.Empty, cancellationToken);
        }
        int n = TryRead(buffer.Span, out int error);
        return n >= 0 ? new ValueTask<int>(n) : ReadSlowAsync(buffer, error, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(Memory<byte> buffer, int error, CancellationToken cancellationToken)
    {
        _reading = true;
        try
        {
            while (true)
            {
                // Only a TLS 1.2 renegotiation or a full socket under a key update makes a read write; renegotiation is off.
                if (error == SSL_ERROR_WANT_WRITE && !_writing) await _socket.WaitWritableAsync(cancellationToken).ConfigureAwait(false);
                else await _socket.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                CheckOpen();
                int n = TryRead(buffer.Span, out error);
                if (n >= 0) return n;
            }
        }
        finally
        {
            _reading = false;
        }
    }

    /// <summary>Bytes read, 0 at the end of the stream, or -1 with what OpenSSL waits for.</summary>
    private unsafe int TryRead(Span<byte> buffer, out int error)
    {
        int n;
        _nothingPending = false;
        fixed (byte* p = buffer) n = SSL_read(_ssl, p, buffer.Length);
        if (n > 0)
        {
            // OpenSSL reads ahead, asking recv for its whole buffer (16 KiB and more). Less than half of that in
            // plaintext, all of it consumed: its last recv came back short, so the socket is drained and the idle wait
            // that follows can skip its peek (the system call SslStream's path saves with the socket's own reads).
            if (n < DrainedBelow && SSL_has_pending(_ssl) == 0)
            {
                _nothingPending = true;
                _socket.NoteDrained();
            }
            error = SSL_ERROR_NONE;
            return n;
        }
        error = SSL_get_error(_ssl, n);
        switch (error)
        {
            case SSL_ERROR_WANT_READ or SSL_ERROR_WANT_WRITE:
                return -1;
            case SSL_ERROR_ZERO_RETURN:
                _readEnded = true; // close_notify, or the peer's FIN (SSL_OP_IGNORE_UNEXPECTED_EOF)
                return 0;
            default:
                throw Failed(error, "recv");
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_ssl == 0) return ValueTask.FromException(new ObjectDisposedException(Description));
        if (_writing) throw new InvalidOperationException($"A write is already in progress on {Description}; one writer at a time.");
        while (!data.IsEmpty)
        {
            int n = TryWrite(data.Span, out int error);
            if (n < 0) return WriteSlowAsync(data, error, cancellationToken);
            data = data[n..];
        }
        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(ReadOnlyMemory<byte> data, int error, CancellationToken cancellationToken)
    {
        _writing = true;
        try
        {
            while (!data.IsEmpty)
            {
                if (error == SSL_ERROR_WANT_READ && !_reading) await _socket.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                else await _socket.WaitWritableAsync(cancellationToken).ConfigureAwait(false);
                CheckOpen();
                while (!data.IsEmpty)
                {
                    int n = TryWrite(data.Span, out error);
                    if (n < 0) break;
                    data = data[n..];
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }

    private unsafe int TryWrite(ReadOnlySpan<byte> data, out int error)
    {
        int n;
        fixed (byte* p = data) n = SSL_write(_ssl, p, data.Length);
        if (n > 0)
        {
            error = SSL_ERROR_NONE;
            return n;
        }
        error = SSL_get_error(_ssl, n);
        if (error is SSL_ERROR_WANT_WRITE or SSL_ERROR_WANT_READ) return -1;
        throw Failed(error, "send");
    }

    /// <summary>
    /// Notes why a callback made the handshake fail (a certificate selector that threw, a validation callback's
    /// error): OpenSSL only sees the failure, so the handshake's exception carries this instead of OpenSSL's words.
    /// </summary>
    internal void CallbackFailed(Exception error) => _callbackError ??= error;

    /// <summary>The handshake's failure: the callback's exception if one failed it, else OpenSSL's error.</summary>
    private Exception HandshakeFailed(int error)
    {
        var failure = Failed(error, "handshake"); // empties the error queue
        return _callbackError is { } cause ? new TlsHandshakeException(_socket.Description, FirstByte, cause) : failure;
    }

    /// <summary>The exception for a failed OpenSSL call, leaving the error queue empty.</summary>
    private Exception Failed(int error, string call)
    {
        if (error == SSL_ERROR_SYSCALL)
        {
            int errno = Marshal.GetLastPInvokeError();
            ERR_clear_error();
            if (errno != 0) return SystemErrors.From(call, errno, _socket.Description);
            return new IOException($"{Description}: the peer closed the connection");
        }
        if (error == SSL_ERROR_ZERO_RETURN)
        {
            ERR_clear_error();
            return new IOException($"{Description}: the peer closed the session");
        }
        return new IOException($"{Description}: {TakeErrors($"OpenSSL error {error}")}");
    }

    private void CheckOpen()
    {
        if (_ssl == 0) throw new ObjectDisposedException(Description);
    }

    /// <summary>Sends close_notify, then the FIN (a write in progress, or a session not established, gets the FIN alone).</summary>
    public override void ShutdownWrite()
    {
        if (!_closeNotifySent && _handshakeDone && _ssl != 0 && !_writing)
        {
            _closeNotifySent = true;
            if (SSL_shutdown(_ssl) < 0) ERR_clear_error(); // a full socket or a peer gone: the FIN alone must do
        }
        if (!_socket.IsClosed) _socket.ShutdownWrite();
    }

    /// <summary>Frees the session, then closes the socket (pending reads and writes end with ObjectDisposedException).</summary>
    public override ValueTask CloseAsync()
    {
        Free();
        return _socket.DisposeAsync();
    }

    private void Free()
    {
        nint ssl = _ssl;
        if (ssl == 0) return;
        _ssl = 0;
        SSL_free(ssl); // the contexts it used keep living while other sessions hold them
        _self.Free();
    }
}
