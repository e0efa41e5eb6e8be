using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile;

/// <summary>
/// A TLS session over a <see cref="SocketStream"/>, read and written like any data stream: the one place where a loop
/// socket becomes a TLS stream, for servers (<see cref="AcceptAsync(SocketStream, ServerOptionsSelectionCallback, object?, CancellationToken)"/>)
/// and clients (<see cref="ConnectAsync"/>).
/// </summary>
/// <remarks>
/// <para>
/// One of two engines runs it (<see cref="Engine"/>). <see cref="OpenSslServerEngine"/> calls OpenSSL on the socket's
/// descriptor, the loop only waiting for readiness, as nginx does (servers on the epoll reactor). Otherwise it runs
/// <see cref="SslStream"/> (OpenSSL on Linux) over the socket's <see cref="DataStream.AsStream"/> adapter, on
/// the loop thread: the socket's reads and writes complete on the loop and SslStream resumes inline after them, so a
/// record costs no thread-pool hop. Awaiting this stream's reads and writes with <c>ConfigureAwait(false)</c> from loop
/// code resumes inline too.
/// </para>
/// <para>
/// A read into an empty buffer waits for data without holding SslStream's read buffer, which goes back to the pool
/// whenever it is empty: an idle connection holds no TLS buffer. <see cref="DataStream.ShutdownWrite"/> sends the TLS
/// <c>close_notify</c> before the TCP FIN. Reads return 0 when the peer closes without <c>close_notify</c> at a record
/// boundary (as browsers do); a connection cut inside a record fails the read.
/// </para>
/// </remarks>
public sealed class TlsStream : DataStream
{
    private TlsStream(TlsSessionLayer session) : base(session.Socket.Loop, session)
    {
    }

    private TlsSessionLayer Session => (TlsSessionLayer)Platform;

    /// <summary>The socket under the session (closed with it).</summary>
    public SocketStream Socket => Session.Socket;

    /// <summary>
    /// Which engine runs the session: <see cref="TlsEngineKind.OpenSsl"/> (OpenSSL on the socket's descriptor, through an
    /// <see cref="OpenSslServerEngine"/>) or <see cref="TlsEngineKind.SslStream"/>.
    /// </summary>
    public TlsEngineKind Engine => Session is OpenSslSession ? TlsEngineKind.OpenSsl : TlsEngineKind.SslStream;

    /// <summary>This side's address.</summary>
    public EndPoint? LocalEndPoint => Socket.LocalEndPoint;

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint => Socket.RemoteEndPoint;

    /// <summary>The application protocol agreed with ALPN (empty when none was).</summary>
    public SslApplicationProtocol NegotiatedApplicationProtocol => Session.NegotiatedApplicationProtocol;

    /// <summary>The TLS version in use.</summary>
    public SslProtocols Protocol => Session.Protocol;

    /// <summary>The cipher suite in use.</summary>
    public TlsCipherSuite CipherSuite => Session.CipherSuite;

    /// <summary>The host name the client asked for (SNI) on a server; the target host on a client.</summary>
    public string HostName => Session.HostName;

    /// <summary>The peer's certificate: the server's on a client; the client's on a server, when it sent one.</summary>
    public X509Certificate? RemoteCertificate => Session.RemoteCertificate;

    /// <summary>
    /// Runs the server side of a handshake on <paramref name="socket"/>, choosing the options (certificate, protocols)
    /// once the client's hello names the host it wants. On success the returned stream owns the socket.
    /// </summary>
    /// <param name="socket">An accepted socket of the current loop.</param>
    /// <param name="selectOptions">Picks the options for the client's hello (its SNI host name).</param>
    /// <param name="state">Passed to <paramref name="selectOptions"/>.</param>
    /// <param name="cancellationToken">Abandons the handshake.</param>
    /// <exception cref="TlsHandshakeException">The handshake failed; the socket is left open for the caller to answer or close.</exception>
    public static Task<TlsStream> AcceptAsync(SocketStream socket, ServerOptionsSelectionCallback selectOptions, object? state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selectOptions);
        return HandshakeAsync(socket, server: true, (ssl, token) => ssl.AuthenticateAsServerAsync(selectOptions, state, token), cancellationToken);
    }

    /// <summary>Runs the server side of a handshake on <paramref name="socket"/> with fixed options.</summary>
    /// <param name="socket">An accepted socket of the current loop.</param>
    /// <param name="options">Certificate, protocols, ALPN, client certificates.</param>
    /// <param name="cancellationToken">Abandons the handshake.</param>
    /// <exception cref="TlsHandshakeException">The handshake failed; the socket is left open for the caller to answer or close.</exception>
    public static Task<TlsStream> AcceptAsync(SocketStream socket, SslServerAuthenticationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return HandshakeAsync(socket, server: true, (ssl, token) => ssl.AuthenticateAsServerAsync(options, token), cancellationToken);
    }

    /// <summary>Runs the client side of a handshake on <paramref name="socket"/>. On success the returned stream owns the socket.</summary>
    /// <param name="socket">A connected socket of the current loop.</param>
    /// <param name="options">Target host (SNI and certificate name), ALPN, trust.</param>
    /// <param name="cancellationToken">Abandons the handshake.</param>
    /// <exception cref="TlsHandshakeException">The handshake failed; the socket is left open for the caller to close.</exception>
    public static Task<TlsStream> ConnectAsync(SocketStream socket, SslClientAuthenticationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return HandshakeAsync(socket, server: false, (ssl, token) => ssl.AuthenticateAsClientAsync(options, token), cancellationToken);
    }

    private static async Task<TlsStream> HandshakeAsync(SocketStream socket, bool server, Func<SslStream, CancellationToken, Task> handshake, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.Loop.CheckThread();
        // The socket stays open under SslStream: closing is the socket's own asynchronous close (TlsLayer), never a
        // blocking Dispose through the adapter.
        var input = new TlsHandshakeProbe(socket.AsStream(), socket.Loop, holdHandshakeWrites: server);
        var ssl = new SslStream(input, leaveInnerStreamOpen: true);
        try
        {
            await handshake(ssl, cancellationToken);
            input.HandshakeEnded();
        }
        catch (Exception e) when (e is AuthenticationException || (e is IOException && e is not SystemCallException))
        {
            await SendAlertAsync(input);
            ssl.Dispose();
            throw new TlsHandshakeException(socket.Description, input.FirstByte, e);
        }
        catch
        {
            input.DropHeld();
            ssl.Dispose();
            throw;
        }
        return new TlsStream(new TlsLayer(socket, ssl, input));
    }

    /// <summary>
    /// Runs the server side of a handshake on <paramref name="socket"/> with OpenSSL on its descriptor (the epoll
    /// reactor's sockets only: <see cref="SocketStream.Descriptor"/> is not -1). On success the returned stream owns the
    /// socket.
    /// </summary>
    /// <param name="socket">An accepted socket of the current loop, with a descriptor.</param>
    /// <param name="engine">Gives the options (certificate, ALPN, client certificates) for the host the client names.</param>
    /// <param name="state">Passed to the engine's selection callback.</param>
    /// <param name="cancellationToken">Abandons the handshake.</param>
    /// <exception cref="TlsHandshakeException">The handshake failed; the socket is left open for the caller to answer or close.</exception>
    /// <exception cref="InvalidOperationException">The socket has no descriptor (the portable reactor, a simulated network).</exception>
    public static ValueTask<TlsStream> AcceptAsync(SocketStream socket, OpenSslServerEngine engine, object? state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(engine);
        socket.Loop.CheckThread();
        if (socket.Descriptor < 0) throw new InvalidOperationException($"{socket.Description} has no descriptor for OpenSSL (the portable reactor, a simulated network, or closed).");
        return AcceptOpenSslAsync(new OpenSslSession(socket, engine, state), cancellationToken);
    }

    // Value tasks all the way (no Task continuation, which the loop's context would send to the thread pool).
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<TlsStream> AcceptOpenSslAsync(OpenSslSession session, CancellationToken cancellationToken)
    {
        await session.HandshakeAsync(cancellationToken).ConfigureAwait(false);
        return new TlsStream(session);
    }

    /// <summary>A failed handshake's alert, if SslStream wrote one, goes out before the failure is reported (best effort).</summary>
    private static async ValueTask SendAlertAsync(TlsHandshakeProbe input)
    {
        try
        {
            await input.SendHeld();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            input.DropHeld();
        }
    }
}
