using System.Net.Security;
using System.Runtime.CompilerServices;

namespace Meanwhile.Http.Client;

/// <summary>
/// One HTTP/1.1 connection to an origin: requests written in turn, responses read in order through its input reader,
/// and whether it can carry another exchange. Loop thread only.
/// </summary>
/// <remarks>
/// <para>
/// Plain and TLS connections share this code: a plain one reads and writes its socket, a TLS one the
/// <see cref="SslStream"/> over the socket's <see cref="Stream"/> adapter. The read buffer is rented when a response is
/// read and returned when the connection goes idle; a zero-byte read waits for data first (on a plain connection
/// always, through TLS with many connections open), so 10,000 waiting requests hold no buffers.
/// </para>
/// <para>
/// Reading a response head is written once, by hand (<see cref="ReadHeadAsync"/>): parse what is buffered, read when
/// more is needed with the read's own value task awaited through a cached delegate, no async method. The connection is
/// the reusable source of that wait (one head is read at a time: the read turn says whose).
/// </para>
/// </remarks>
internal sealed partial class ClientConnection
{
    /// <summary>Above this many open connections to an origin, a connection waits for data before renting its read buffer.</summary>
    private const int ZeroByteReadThreshold = 256;

    private readonly OriginPool _pool;
    private readonly ClientContext _context;
    private readonly SocketStream _socket;
    private readonly SslStream? _tls;
    private readonly HttpResponseParser _parser;
    private readonly HttpInputReader _input;
    private Turnstile _writeTurn; // structs, used in place: not readonly
    private Turnstile _readTurn;
    private readonly Action _onHeadBytes;
    private LoopValueTaskSourceCore<bool> _headRead;
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _pendingHeadRead;
    private Uri _headUri = null!;
    private bool _stopAtContinue;
    private bool _receivedAny;
    private bool _bodyComplete;
    private bool _mustClose;
    private bool _waitedWithoutBuffer;

    private ClientConnection(OriginPool pool, SocketStream socket, SslStream? tls)
    {
        _pool = pool;
        _context = pool.Context;
        _socket = socket;
        _tls = tls;
        _parser = new HttpResponseParser(_context.Options.ParserLimits);
        _input = new HttpInputReader(_parser, _context.Options.ReceiveBufferSize);
        _headRead = new LoopValueTaskSourceCore<bool>(_context.Loop);
        _onHeadBytes = OnHeadBytes;
    }

    /// <summary>Requests sent on this connection whose responses were not released yet.</summary>
    public int InFlight { get; set; }

    /// <summary>True while it is among its pool's open connections.</summary>
    public bool IsOpen { get; set; }

    /// <summary>The pool's open connection opened before it (its pool's list), so that closing it costs no search.</summary>
    public ClientConnection? PreviousOpen { get; set; }

    /// <summary>The pool's open connection opened after it.</summary>
    public ClientConnection? NextOpen { get; set; }

    /// <summary>Responses completely read on this connection.</summary>
    public int Completed { get; private set; }

    /// <summary>True once the connection failed or was closed: it takes no more requests.</summary>
    public bool IsBroken { get; private set; }

    /// <summary>The head of the response being read; valid until that response is released.</summary>
    public HttpResponseHead Head => _parser.Head;

    /// <summary>True once the current response's body has been read to its end.</summary>
    public bool BodyComplete => _bodyComplete;

    /// <summary>Where request bodies are written (the socket's stream adapter, or TLS).</summary>
    public Stream Stream => _tls ?? _socket.AsStream(); // the socket's adapter made on first use: most requests have no body

    /// <summary>
    /// Opens a connection (and its TLS session for https) to <paramref name="pool"/>'s origin, in the slot the caller was
    /// given, under <paramref name="exchange"/>'s connect timeout and cancellation.
    /// </summary>
    public static async Task<ClientConnection> OpenAsync(OriginPool pool, Exchange exchange)
    {
        // The connect phase's countdown is the exchange's, run here rather than in an async method of its own around this one.
        var connecting = StartConnect(pool, exchange);
        var token = exchange.WaitToken;
        try
        {
            var socket = await connecting;
            return Opened(pool, pool.IsHttps ? await StartTlsAsync(pool, socket, token) : new ClientConnection(pool, socket, null));
        }
        catch
        {
            pool.ConnectFailed();
            throw;
        }
        finally
        {
            exchange.EndPhase();
        }
    }

    /// <summary>
    /// Starts the connect phase and the socket's connect. <see cref="OpenAsync"/> begins so; plain HTTP's fast path awaits
    /// the task itself (one continuation, not a task and a continuation per layer), then calls <see cref="FinishPlainOpen"/>.
    /// A connect that fails at once is a failed task, so every way ends alike.
    /// </summary>
    public static Task<SocketStream> StartConnect(OriginPool pool, Exchange exchange)
    {
        try
        {
            exchange.StartPhase(pool.Context.ConnectTimeout, LoopHttpErrorKind.ConnectTimeout);
            var token = exchange.WaitToken;
            pool.Context.Mark(ClientMarks.Connect);
            return pool.Address is { } address ? SocketStream.ConnectAsync(address, null, token) : SocketStream.ConnectAsync(pool.Host, pool.Port, null, token);
        }
        catch (Exception e)
        {
            return Task.FromException<SocketStream>(e);
        }
    }

    /// <summary>Plain HTTP's end of <see cref="StartConnect"/>, once <paramref name="connecting"/> has completed: as <see cref="OpenAsync"/> ends.</summary>
    public static ClientConnection FinishPlainOpen(OriginPool pool, Exchange exchange, TaskAwaiter<SocketStream> connecting)
    {
        try
        {
            return Opened(pool, new ClientConnection(pool, connecting.GetResult(), null));
        }
        catch
        {
            pool.ConnectFailed();
            throw;
        }
        finally
        {
            exchange.EndPhase();
        }
    }

    /// <summary>The connection is open: marked, and counted by its pool.</summary>
    private static ClientConnection Opened(OriginPool pool, ClientConnection connection)
    {
        pool.Context.Mark(ClientMarks.Connected);
        pool.Connected(connection);
        return connection;
    }

    /// <summary>Starts TLS on <paramref name="socket"/> for <paramref name="pool"/>'s origin (closing the socket if the handshake fails).</summary>
    private static async Task<ClientConnection> StartTlsAsync(OriginPool pool, SocketStream socket, CancellationToken token)
    {
        // SslStream resumes its own awaits off the loop; the stream adapter carries such calls back to it.
        // The socket stays open under SslStream so closing is always the socket's asynchronous close, never a
        // blocking Dispose on the loop thread.
        var tls = new SslStream(socket.AsStream(), leaveInnerStreamOpen: true);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = pool.TlsHost,
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                RemoteCertificateValidationCallback = CertificateTrust.CallbackFor(pool.Context.Options),
            }, token);
        }
        catch
        {
            await tls.DisposeAsync();
            await socket.DisposeAsync();
            throw;
        }

        return new ClientConnection(pool, socket, tls);
    }

    /// <summary>Takes the next place to write a request; the task completes when it is the caller's turn.</summary>
    public Task EnterWriteTurn(IExchangeWaits exchange) => _writeTurn.EnterAsync(exchange);

    public void ExitWriteTurn() => _writeTurn.Exit();

    /// <summary>Takes the next place to read a response: taken before the write turn is given up, it keeps responses in the order of requests.</summary>
    public Task EnterReadTurn(IExchangeWaits exchange) => _readTurn.EnterAsync(exchange);

    /// <summary>Gives up a read turn taken by an exchange that failed before reading.</summary>
    public void AbandonReadTurn(Task turn) => _readTurn.Abandon(turn);

    /// <summary>Writes request bytes, usually at once.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        ThrowIfBroken(); // the exchange ended (and closed the connection) before its head went out
        // A plain connection writes (and reads) its socket itself: the Stream adapter in between would only check the thread again.
        return _tls is null ? _socket.WriteAsync(bytes) : _tls.WriteAsync(bytes);
    }

    /// <summary>The body announced by Content-Length was never sent: the connection cannot carry another request.</summary>
    public void MustClose() => _mustClose = true;

    /// <summary>
    /// An exchange on this connection failed with <paramref name="error"/>: closes the connection, lets requests
    /// pipelined behind see it, and returns what to throw — <see cref="StaleConnectionException"/> when nothing of the
    /// response came on a connection used before (the caller may send again).
    /// </summary>
    public Exception Failed(Exception error, bool holdingRead, bool reused, IExchangeWaits exchange)
    {
        Abort();
        if (holdingRead)
        {
            // Let the requests pipelined behind this one see the connection is gone.
            _readTurn.Exit();
        }

        if (!(holdingRead && _receivedAny) && reused && !exchange.Ended
            && error is not (OperationCanceledException or ArgumentException or LoopHttpException { Kind: LoopHttpErrorKind.MalformedResponse }))
        {
            return new StaleConnectionException(error);
        }

        return error;
    }

    /// <summary>The caller is done with the current response: reuse the connection when the exchange ended cleanly, else close it.</summary>
    public void Release(bool complete)
    {
        bool reusable = complete && !IsBroken && !_input.IsEndOfInput && !_mustClose && _parser.Head.KeepAlive;
        if (complete)
        {
            Completed++;
        }

        // Bytes after a response nobody asked for are not a response to trust.
        if (reusable && InFlight == 1 && _input.Buffered > 0)
        {
            reusable = false;
        }

        if (!reusable)
        {
            Abort();
        }

        _readTurn.Exit();
        InFlight--;
        if (!IsBroken && InFlight == 0 && _input.Buffered == 0)
        {
            _input.Release();
            _parser.ReleaseBuffers();
        }

        _pool.Returned(this);
    }

    /// <summary>Closes the connection now; requests in flight on it fail.</summary>
    public void Abort()
    {
        if (IsBroken)
        {
            return;
        }

        IsBroken = true;
        _pool.Closed(this);

        // A read may still be pending into the buffer (the portable reactor, SslStream): leave it to the GC rather
        // than hand it back to the pool while something could write into it.
        _input.Abandon();
        _context.TrackClose(CloseAsync());
    }

    private async Task CloseAsync()
    {
        if (_tls is not null)
        {
            await _tls.DisposeAsync();
        }

        await _socket.DisposeAsync();
    }

    public void ThrowIfBroken()
    {
        if (IsBroken)
        {
            throw new ObjectDisposedException(nameof(ClientConnection), "An earlier exchange on this connection failed.");
        }
    }
}
