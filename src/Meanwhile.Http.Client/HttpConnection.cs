using System.Buffers;
using System.Net.Security;
using Meanwhile.Http;

namespace Meanwhile.Http.Client;

/// <summary>
/// One HTTP/1.1 connection to an origin: writes requests, parses their responses in order, and knows whether it
/// can carry another exchange. Loop thread only.
/// </summary>
/// <remarks>
/// Plain and TLS connections share this code: a plain one reads and writes its socket, a TLS one the
/// <see cref="SslStream"/> over the socket's <see cref="Stream"/> adapter. The read buffer is rented when a response is
/// read and returned when the connection goes idle; a zero-byte read waits for data first (on a plain connection
/// always, through TLS with many connections open), so 10,000 waiting requests hold no buffers.
/// </remarks>
internal sealed class HttpConnection
{
    /// <summary>Above this many open connections to an origin, a connection waits for data before renting its read buffer.</summary>
    private const int ZeroByteReadThreshold = 256;

    private readonly OriginPool _pool;
    private readonly SocketStream _socket;
    private readonly SslStream? _tls;
    private readonly Stream _stream;
    private readonly HttpResponseParser _parser;
    private readonly int _bufferSize;
    private readonly Turnstile _writeTurn = new();
    private readonly Turnstile _readTurn = new();
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private int _pendingOffset;
    private int _pendingLength;
    private bool _endOfInput;
    private bool _receivedAny;
    private bool _bodyComplete;
    private bool _mustClose;
    private bool _waitedWithoutBuffer;

    private HttpConnection(OriginPool pool, SocketStream socket, SslStream? tls, LoopHttpClientOptions options)
    {
        this._pool = pool;
        this._socket = socket;
        this._tls = tls;
        _stream = tls ?? socket.AsStream();
        _parser = new HttpResponseParser(options.ParserLimits);
        _bufferSize = options.ReceiveBufferSize;
    }

    /// <summary>Requests sent on this connection whose responses were not released yet.</summary>
    public int InFlight { get; set; }

    /// <summary>Responses completely read on this connection.</summary>
    public int Completed { get; private set; }

    /// <summary>True once the connection failed or was closed: it takes no more requests.</summary>
    public bool IsBroken { get; private set; }

    /// <summary>The head of the response being read; valid until that response is released.</summary>
    public HttpResponseHead Head => _parser.Head;

    /// <summary>True once the current response's body has been read to its end.</summary>
    public bool BodyComplete => _bodyComplete;

    /// <summary>A plain-HTTP connection over <paramref name="socket"/>.</summary>
    public static HttpConnection Plain(OriginPool pool, SocketStream socket, LoopHttpClientOptions options) =>
        new(pool, socket, null, options);

    /// <summary>Starts TLS on <paramref name="socket"/> for <paramref name="pool"/>'s origin (closing the socket if the handshake fails).</summary>
    public static async Task<HttpConnection> StartTlsAsync(OriginPool pool, SocketStream socket, LoopHttpClientOptions options, CancellationToken token)
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
                RemoteCertificateValidationCallback = CertificateTrust.CallbackFor(options),
            }, token);
        }
        catch
        {
            await tls.DisposeAsync();
            await socket.DisposeAsync();
            throw;
        }

        return new HttpConnection(pool, socket, tls, options);
    }

    /// <summary>
    /// Sends the serialized request <paramref name="head"/> (and body), then waits for this request's turn to read and
    /// reads its final response head. On return the caller owns the response until <see cref="Release"/>.
    /// </summary>
    /// <remarks>The general path: pipelining, request bodies, <c>100 Continue</c>. A request that has the connection to itself takes <see cref="BeginExclusive"/>.</remarks>
    /// <exception cref="StaleConnectionException">Nothing of the response came on a connection that had been used before: send again.</exception>
    public async Task ExchangeAsync(LoopHttpRequest request, PooledByteBuffer head, bool bodyInHead, Exchange exchange, LoopHttpClientOptions options)
    {
        bool reused = Completed > 0 || InFlight > 1;
        bool holdingRead = false;
        try
        {
            await _writeTurn.EnterAsync(exchange);
            Task readTurnTask;
            try
            {
                ThrowIfBroken();

                // Taking the read turn before the write turn is released keeps responses in the order of requests.
                readTurnTask = _readTurn.EnterAsync(exchange);
                if (request.ExpectContinue && request.Body is not null)
                {
                    // Only reached with exclusive use of the connection (the pool never pipelines a request with a body).
                    await readTurnTask;
                    holdingRead = true;
                    await SendExpectingContinueAsync(request, head, exchange, options);
                    return;
                }

                await _stream.WriteAsync(head.WrittenMemory);
                if (request.Body is { } body && !bodyInHead)
                {
                    await RequestBodyWriter.WriteAsync(_stream, body, head, exchange.SlowToken);
                }

                LoopHttpClient.Mark(_pool.Client.Loop, ClientMarks.RequestSent);
            }
            finally
            {
                _writeTurn.Exit();
            }

            await readTurnTask;
            holdingRead = true;
            _receivedAny = false;
            ThrowIfBroken();
            _parser.SetRequestMethod(MethodBytes.Of(request.Method));
            exchange.StartPhase(_pool.Client.Timeouts.ResponseHeaders, LoopHttpErrorKind.ResponseHeadersTimeout);
            await ReadFinalHeadAsync(stopAtContinue: false, request.Uri);
            exchange.EndPhase();
        }
        catch (Exception e)
        {
            throw Failed(e, holdingRead, reused, exchange);
        }
    }

    /// <summary>
    /// The fast path's first step, for a request without a body on a connection it has to itself (taken idle from
    /// the pool): takes both turns (a request pipelined later queues behind it); <see cref="WriteExclusive"/> writes the
    /// head. Then <see cref="HeadSent"/>, and <see cref="TryReadFinalHead"/> / <see cref="ReceiveAsync"/> until the head is in;
    /// on any failure, <see cref="Failed"/>. The caller awaits in its own state machine: no async layer here.
    /// </summary>
    public void BeginExclusive()
    {
        ThrowIfBroken();
        if (!_writeTurn.TryEnter() || !_readTurn.TryEnter())
        {
            throw new InvalidOperationException("An idle connection had a turn taken."); // cannot happen: idle means no exchange
        }
    }

    /// <summary>Writes the head of the request that <see cref="BeginExclusive"/> gave this connection, usually at once.</summary>
    public ValueTask WriteExclusive(PooledByteBuffer head)
    {
        ThrowIfBroken(); // the exchange ended (and closed the connection) before its head went out
        return _tls is null ? _socket.WriteAsync(head.WrittenMemory) : _stream.WriteAsync(head.WrittenMemory);
    }

    /// <summary>The fast path failed with <paramref name="error"/>: as <see cref="Failed"/>, and gives the write turn back if the head was not sent.</summary>
    public Exception FailedExclusive(Exception error, bool headSent, bool reused, Exchange exchange)
    {
        if (!headSent)
        {
            _writeTurn.Exit();
        }

        return Failed(error, holdingRead: true, reused, exchange);
    }

    /// <summary>The head of <see cref="BeginExclusive"/> is with the kernel: the response to <paramref name="method"/> is next.</summary>
    public void HeadSent(string method)
    {
        _writeTurn.Exit();
        LoopHttpClient.Mark(_pool.Client.Loop, ClientMarks.RequestSent);
        _receivedAny = false;
        _parser.SetRequestMethod(MethodBytes.Of(method));
        _bodyComplete = false;
        if (_start < _end)
        {
            _receivedAny = true;
        }
    }

    /// <summary>
    /// Parses what is buffered: true at the final response head (skipping 1xx), false when more bytes are needed
    /// (<see cref="ReceiveAsync"/>, then <see cref="Received"/>).
    /// </summary>
    /// <exception cref="LoopHttpException">The response is malformed, or the connection closed before its head.</exception>
    public bool TryReadFinalHead(Uri uri) => ReadHeadStep(stopAtContinue: false, uri) != HeadStep.NeedMore;

    /// <summary>
    /// A read of more bytes once the parser consumed everything buffered; pass its result to <see cref="Received"/>.
    /// Returns the stream's own <see cref="ValueTask{TResult}"/>: no async layer.
    /// </summary>
    public ValueTask<int> ReceiveAsync()
    {
        if (_endOfInput)
        {
            return new ValueTask<int>(0);
        }

        _start = _end = 0;
        if (_buffer is null)
        {
            // Wait for data without a buffer, so exchanges waiting for their answers hold no memory; then rent and
            // read, and the read finds the data at once. On a plain socket this is also the cheaper wait: the
            // loop's readiness wait is itself the value task, where a read that has to wait runs an async method
            // (one recv either way: the socket knows its last read emptied it, so the wait needs no peek). Through
            // TLS only with many connections open: SslStream's zero-byte read is a layer of its own.
            if ((_tls is null || _pool.OpenCount > ZeroByteReadThreshold) && !_waitedWithoutBuffer)
            {
                _waitedWithoutBuffer = true;
                return ReadStreamAsync(Memory<byte>.Empty);
            }

            _buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
        }

        return ReadStreamAsync(_buffer);
    }

    // A plain connection reads (and WriteExclusive writes) its socket itself: the Stream adapter in between would only
    // check the thread again.
    private ValueTask<int> ReadStreamAsync(Memory<byte> into) => _tls is null ? _socket.ReadAsync(into) : _stream.ReadAsync(into);

    /// <summary>Takes the result of <see cref="ReceiveAsync"/>; sets <see cref="_endOfInput"/> at the end of the stream.</summary>
    public void Received(int n)
    {
        if (_buffer is null)
        {
            return; // the zero-byte wait for data ended: the next ReceiveAsync rents the buffer and reads
        }

        _waitedWithoutBuffer = false;
        if (n == 0)
        {
            _endOfInput = true;
            return;
        }

        _receivedAny = true;
        _end = n;
    }

    /// <summary>
    /// An exchange on this connection failed with <paramref name="error"/>: closes the connection, lets requests
    /// pipelined behind see it, and returns what to throw — <see cref="StaleConnectionException"/> when nothing of the
    /// response came on a connection used before (the caller may send again).
    /// </summary>
    public Exception Failed(Exception error, bool holdingRead, bool reused, Exchange exchange)
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

    /// <summary>Reads body bytes of the current response into <paramref name="destination"/>; 0 at its end.</summary>
    public async ValueTask<int> ReadBodyAsync(Memory<byte> destination, Uri uri)
    {
        while (true)
        {
            if (TryReadBuffered(destination, uri, out int n))
            {
                return n;
            }

            try
            {
                Received(await ReceiveAsync());
            }
            catch
            {
                Abort();
                throw;
            }
        }
    }

    /// <summary>Reads body bytes that are already buffered (or the body's end) without waiting: false when a read from the connection is needed.</summary>
    public bool TryReadBuffered(Memory<byte> destination, Uri uri, out int read)
    {
        while (true)
        {
            if (_pendingLength > 0)
            {
                int n = Math.Min(_pendingLength, destination.Length);
                _buffer.AsSpan(_pendingOffset, n).CopyTo(destination.Span);
                _pendingOffset += n;
                _pendingLength -= n;
                read = n;
                return true;
            }

            if (_bodyComplete || destination.IsEmpty)
            {
                read = 0;
                return true;
            }

            if (!StepBody(uri))
            {
                read = 0;
                return false;
            }
        }
    }

    /// <summary>Finishes the body from bytes already received, without waiting: true when the whole response is in.</summary>
    public bool TryCompleteFromBuffer(Uri uri)
    {
        try
        {
            while (!_bodyComplete)
            {
                _pendingLength = 0;
                if (!StepBody(uri))
                {
                    return false;
                }
            }

            _pendingLength = 0;
            return true;
        }
        catch (LoopHttpException)
        {
            return false;
        }
    }

    /// <summary>The caller is done with the current response: reuse the connection when the exchange ended cleanly, else close it.</summary>
    public void Release(bool complete)
    {
        bool reusable = complete && !IsBroken && !_endOfInput && !_mustClose && _parser.Head.KeepAlive;
        if (complete)
        {
            Completed++;
        }

        // Bytes after a response nobody asked for are not a response to trust.
        if (reusable && InFlight == 1 && _start < _end)
        {
            reusable = false;
        }

        if (!reusable)
        {
            Abort();
        }

        _bodyComplete = false;
        _readTurn.Exit();
        InFlight--;
        if (!IsBroken && InFlight == 0 && _start == _end)
        {
            ReleaseBuffers();
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
        _buffer = null;
        _start = _end = _pendingLength = 0;
        _pool.Client.TrackClose(CloseAsync());
    }

    private async Task CloseAsync()
    {
        if (_tls is not null)
        {
            await _tls.DisposeAsync();
        }

        await _socket.DisposeAsync();
    }

    private async Task SendExpectingContinueAsync(LoopHttpRequest request, PooledByteBuffer head, Exchange exchange, LoopHttpClientOptions options)
    {
        CancellationToken token = exchange.SlowToken;
        await _stream.WriteAsync(head.WrittenMemory);
        _receivedAny = false;
        _parser.SetRequestMethod(MethodBytes.Of(request.Method));

        // Read and write at once: the server may answer 100 (send the body), a final status (do not), or nothing
        // within the timeout (send the body anyway, RFC 9110 10.1.1).
        Task<bool> interim = ReadFinalHeadAsync(stopAtContinue: true, request.Uri);
        using (var waitLonger = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            var patience = _pool.Client.Loop.Delay(options.ExpectContinueTimeout, waitLonger.Token).AsTask();
            bool sendBody = await Task.WhenAny(interim, patience) != interim || await interim;
            waitLonger.Cancel();
            if (sendBody)
            {
                await RequestBodyWriter.WriteAsync(_stream, request.Body!, head, token);
            }
            else
            {
                // The body announced by Content-Length was never sent: the connection cannot carry another request.
                _mustClose = true;
            }
        }

        exchange.StartPhase(_pool.Client.Timeouts.ResponseHeaders, LoopHttpErrorKind.ResponseHeadersTimeout);
        if (await interim)
        {
            await ReadFinalHeadAsync(stopAtContinue: false, request.Uri);
        }

        exchange.EndPhase();
    }

    /// <summary>Reads until a final response head (skipping 1xx), or until 100 Continue when <paramref name="stopAtContinue"/>.</summary>
    /// <returns>True when it stopped at 100 Continue; false at a final head.</returns>
    private async Task<bool> ReadFinalHeadAsync(bool stopAtContinue, Uri uri)
    {
        _bodyComplete = false;
        if (_start < _end)
        {
            _receivedAny = true;
        }

        while (true)
        {
            switch (ReadHeadStep(stopAtContinue, uri))
            {
                case HeadStep.Final:
                    return false;
                case HeadStep.Continue:
                    return true;
                default:
                    Received(await ReceiveAsync());
                    break;
            }
        }
    }

    private enum HeadStep
    {
        NeedMore,
        Final,
        Continue,
    }

    /// <summary>Parses buffered bytes towards a final head: how far it got. Throws at the end of input or on a malformed response.</summary>
    private HeadStep ReadHeadStep(bool stopAtContinue, Uri uri)
    {
        while (true)
        {
            var status = _parser.Parse(_buffer.AsSpan(_start, _end - _start), out int consumed, out _);
            _start += consumed;
            switch (status)
            {
                case HttpParseStatus.NeedMoreData:
                    if (_endOfInput)
                    {
                        if (_parser.EndOfInput() == HttpParseStatus.Error)
                        {
                            throw new LoopHttpException(LoopHttpErrorKind.IncompleteResponse, uri, $"the connection closed before the response head was complete ({_parser.Error.Reason})");
                        }

                        throw new LoopHttpException(LoopHttpErrorKind.IncompleteResponse, uri, "the connection closed before any response");
                    }

                    return HeadStep.NeedMore;

                case HttpParseStatus.HeadComplete when _parser.Head.IsInterim:
                    if (_parser.Head.StatusCode == 101)
                    {
                        throw new LoopHttpException(uri, new HttpParseError(HttpParseErrorKind.InvalidStatusLine, "101 Switching Protocols without an Upgrade request"));
                    }

                    if (stopAtContinue && _parser.Head.StatusCode == 100)
                    {
                        // Consume the interim message's (empty) end so the next read starts at the final response.
                        _parser.Parse(_buffer.AsSpan(_start, _end - _start), out consumed, out _);
                        _start += consumed;
                        return HeadStep.Continue;
                    }

                    break;

                case HttpParseStatus.HeadComplete:
                    // A response without a body (HEAD, 204, 304, Content-Length: 0) is complete now; say so, so a
                    // caller who never reads the body still leaves a reusable connection.
                    if (_parser.Head.Framing == HttpBodyFraming.None || (_parser.Head.Framing == HttpBodyFraming.ContentLength && _parser.Head.ContentLength == 0))
                    {
                        StepBody(uri);
                    }

                    LoopHttpClient.Mark(_pool.Client.Loop, ClientMarks.ResponseReceived);
                    return HeadStep.Final;

                case HttpParseStatus.MessageComplete:
                    break; // the end of a 1xx message

                default:
                    throw new LoopHttpException(uri, _parser.Error);
            }
        }
    }

    /// <summary>Advances the parser over buffered bytes: true when it made progress (a body piece is pending, or the body ended).</summary>
    private bool StepBody(Uri uri)
    {
        var status = _parser.Parse(_buffer.AsSpan(_start, _end - _start), out int consumed, out ReadOnlySpan<byte> body);
        _start += consumed;
        switch (status)
        {
            case HttpParseStatus.Body:
                // The piece is a slice of our buffer ending where the parser stopped.
                _pendingOffset = _start - body.Length;
                _pendingLength = body.Length;
                return true;

            case HttpParseStatus.MessageComplete:
                _bodyComplete = true;
                return true;

            case HttpParseStatus.NeedMoreData when _endOfInput:
                switch (_parser.EndOfInput())
                {
                    case HttpParseStatus.MessageComplete:
                        _bodyComplete = true;
                        return true;
                    default:
                        throw new LoopHttpException(LoopHttpErrorKind.IncompleteResponse, uri,
                            $"the connection closed after {_parser.BodyBytesReceived} body bytes, before the response was complete ({_parser.Error.Reason})");
                }

            case HttpParseStatus.NeedMoreData:
                return false;

            default:
                throw new LoopHttpException(uri, _parser.Error);
        }
    }

    private void ReleaseBuffers()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        _start = _end = 0;
        _pendingLength = 0;
        _parser.ReleaseBuffers();
    }

    private void ThrowIfBroken()
    {
        if (IsBroken)
        {
            throw new ObjectDisposedException(nameof(HttpConnection), "An earlier exchange on this connection failed.");
        }
    }
}
