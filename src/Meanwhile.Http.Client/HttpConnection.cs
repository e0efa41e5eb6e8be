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

    private readonly OriginPool pool;
    private readonly SocketStream socket;
    private readonly SslStream? tls;
    private readonly Stream stream;
    private readonly HttpResponseParser parser;
    private readonly int bufferSize;
    private readonly Turnstile writeTurn = new();
    private readonly Turnstile readTurn = new();
    private byte[]? buffer;
    private int start;
    private int end;
    private int pendingOffset;
    private int pendingLength;
    private bool endOfInput;
    private bool receivedAny;
    private bool bodyComplete;
    private bool mustClose;
    private bool waitedWithoutBuffer;

    private HttpConnection(OriginPool pool, SocketStream socket, SslStream? tls, LoopHttpClientOptions options)
    {
        this.pool = pool;
        this.socket = socket;
        this.tls = tls;
        stream = tls ?? socket.AsStream();
        parser = new HttpResponseParser(options.ParserLimits);
        bufferSize = options.ReceiveBufferSize;
    }

    /// <summary>Requests sent on this connection whose responses were not released yet.</summary>
    public int InFlight { get; set; }

    /// <summary>Responses completely read on this connection.</summary>
    public int Completed { get; private set; }

    /// <summary>True once the connection failed or was closed: it takes no more requests.</summary>
    public bool IsBroken { get; private set; }

    /// <summary>The head of the response being read; valid until that response is released.</summary>
    public HttpResponseHead Head => parser.Head;

    /// <summary>True once the current response's body has been read to its end.</summary>
    public bool BodyComplete => bodyComplete;

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
            await writeTurn.EnterAsync(exchange);
            Task readTurnTask;
            try
            {
                ThrowIfBroken();

                // Taking the read turn before the write turn is released keeps responses in the order of requests.
                readTurnTask = readTurn.EnterAsync(exchange);
                if (request.ExpectContinue && request.Body is not null)
                {
                    // Only reached with exclusive use of the connection (the pool never pipelines a request with a body).
                    await readTurnTask;
                    holdingRead = true;
                    await SendExpectingContinueAsync(request, head, exchange, options);
                    return;
                }

                await stream.WriteAsync(head.WrittenMemory);
                if (request.Body is { } body && !bodyInHead)
                {
                    await RequestBodyWriter.WriteAsync(stream, body, head, exchange.SlowToken);
                }

                LoopHttpClient.Mark(pool.Client.Loop, HttpMarks.RequestSent);
            }
            finally
            {
                writeTurn.Exit();
            }

            await readTurnTask;
            holdingRead = true;
            receivedAny = false;
            ThrowIfBroken();
            parser.SetRequestMethod(MethodBytes.Of(request.Method));
            exchange.StartPhase(pool.Client.Timeouts.ResponseHeaders, LoopHttpErrorKind.ResponseHeadersTimeout);
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
        if (!writeTurn.TryEnter() || !readTurn.TryEnter())
        {
            throw new InvalidOperationException("An idle connection had a turn taken."); // cannot happen: idle means no exchange
        }
    }

    /// <summary>Writes the head of the request that <see cref="BeginExclusive"/> gave this connection, usually at once.</summary>
    public ValueTask WriteExclusive(PooledByteBuffer head)
    {
        ThrowIfBroken(); // the exchange ended (and closed the connection) before its head went out
        return tls is null ? socket.WriteAsync(head.WrittenMemory) : stream.WriteAsync(head.WrittenMemory);
    }

    /// <summary>The fast path failed with <paramref name="error"/>: as <see cref="Failed"/>, and gives the write turn back if the head was not sent.</summary>
    public Exception FailedExclusive(Exception error, bool headSent, bool reused, Exchange exchange)
    {
        if (!headSent)
        {
            writeTurn.Exit();
        }

        return Failed(error, holdingRead: true, reused, exchange);
    }

    /// <summary>The head of <see cref="BeginExclusive"/> is with the kernel: the response to <paramref name="method"/> is next.</summary>
    public void HeadSent(string method)
    {
        writeTurn.Exit();
        LoopHttpClient.Mark(pool.Client.Loop, HttpMarks.RequestSent);
        receivedAny = false;
        parser.SetRequestMethod(MethodBytes.Of(method));
        bodyComplete = false;
        if (start < end)
        {
            receivedAny = true;
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
        if (endOfInput)
        {
            return new ValueTask<int>(0);
        }

        start = end = 0;
        if (buffer is null)
        {
            // Wait for data without a buffer, so exchanges waiting for their answers hold no memory; then rent and
            // read, and the read finds the data at once. On a plain socket this is also the cheaper wait: the
            // loop's readiness wait is itself the value task, where a read that has to wait runs an async method
            // (one recv either way: the socket knows its last read emptied it, so the wait needs no peek). Through
            // TLS only with many connections open: SslStream's zero-byte read is a layer of its own.
            if ((tls is null || pool.OpenCount > ZeroByteReadThreshold) && !waitedWithoutBuffer)
            {
                waitedWithoutBuffer = true;
                return ReadStreamAsync(Memory<byte>.Empty);
            }

            buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        }

        return ReadStreamAsync(buffer);
    }

    // A plain connection reads (and WriteExclusive writes) its socket itself: the Stream adapter in between would only
    // check the thread again.
    private ValueTask<int> ReadStreamAsync(Memory<byte> into) => tls is null ? socket.ReadAsync(into) : stream.ReadAsync(into);

    /// <summary>Takes the result of <see cref="ReceiveAsync"/>; sets <see cref="endOfInput"/> at the end of the stream.</summary>
    public void Received(int n)
    {
        if (buffer is null)
        {
            return; // the zero-byte wait for data ended: the next ReceiveAsync rents the buffer and reads
        }

        waitedWithoutBuffer = false;
        if (n == 0)
        {
            endOfInput = true;
            return;
        }

        receivedAny = true;
        end = n;
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
            readTurn.Exit();
        }

        if (!(holdingRead && receivedAny) && reused && !exchange.Ended
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
            if (pendingLength > 0)
            {
                int n = Math.Min(pendingLength, destination.Length);
                buffer.AsSpan(pendingOffset, n).CopyTo(destination.Span);
                pendingOffset += n;
                pendingLength -= n;
                read = n;
                return true;
            }

            if (bodyComplete || destination.IsEmpty)
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
            while (!bodyComplete)
            {
                pendingLength = 0;
                if (!StepBody(uri))
                {
                    return false;
                }
            }

            pendingLength = 0;
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
        bool reusable = complete && !IsBroken && !endOfInput && !mustClose && parser.Head.KeepAlive;
        if (complete)
        {
            Completed++;
        }

        // Bytes after a response nobody asked for are not a response to trust.
        if (reusable && InFlight == 1 && start < end)
        {
            reusable = false;
        }

        if (!reusable)
        {
            Abort();
        }

        bodyComplete = false;
        readTurn.Exit();
        InFlight--;
        if (!IsBroken && InFlight == 0 && start == end)
        {
            ReleaseBuffers();
        }

        pool.Returned(this);
    }

    /// <summary>Closes the connection now; requests in flight on it fail.</summary>
    public void Abort()
    {
        if (IsBroken)
        {
            return;
        }

        IsBroken = true;
        pool.Closed(this);

        // A read may still be pending into the buffer (the portable reactor, SslStream): leave it to the GC rather
        // than hand it back to the pool while something could write into it.
        buffer = null;
        start = end = pendingLength = 0;
        pool.Client.TrackClose(CloseAsync());
    }

    private async Task CloseAsync()
    {
        if (tls is not null)
        {
            await tls.DisposeAsync();
        }

        await socket.DisposeAsync();
    }

    private async Task SendExpectingContinueAsync(LoopHttpRequest request, PooledByteBuffer head, Exchange exchange, LoopHttpClientOptions options)
    {
        CancellationToken token = exchange.SlowToken;
        await stream.WriteAsync(head.WrittenMemory);
        receivedAny = false;
        parser.SetRequestMethod(MethodBytes.Of(request.Method));

        // Read and write at once: the server may answer 100 (send the body), a final status (do not), or nothing
        // within the timeout (send the body anyway, RFC 9110 10.1.1).
        Task<bool> interim = ReadFinalHeadAsync(stopAtContinue: true, request.Uri);
        using (var waitLonger = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            var patience = pool.Client.Loop.Delay(options.ExpectContinueTimeout, waitLonger.Token).AsTask();
            bool sendBody = await Task.WhenAny(interim, patience) != interim || await interim;
            waitLonger.Cancel();
            if (sendBody)
            {
                await RequestBodyWriter.WriteAsync(stream, request.Body!, head, token);
            }
            else
            {
                // The body announced by Content-Length was never sent: the connection cannot carry another request.
                mustClose = true;
            }
        }

        exchange.StartPhase(pool.Client.Timeouts.ResponseHeaders, LoopHttpErrorKind.ResponseHeadersTimeout);
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
        bodyComplete = false;
        if (start < end)
        {
            receivedAny = true;
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
            var status = parser.Parse(buffer.AsSpan(start, end - start), out int consumed, out _);
            start += consumed;
            switch (status)
            {
                case HttpParseStatus.NeedMoreData:
                    if (endOfInput)
                    {
                        if (parser.EndOfInput() == HttpParseStatus.Error)
                        {
                            throw new LoopHttpException(LoopHttpErrorKind.IncompleteResponse, uri, $"the connection closed before the response head was complete ({parser.Error.Reason})");
                        }

                        throw new LoopHttpException(LoopHttpErrorKind.IncompleteResponse, uri, "the connection closed before any response");
                    }

                    return HeadStep.NeedMore;

                case HttpParseStatus.HeadComplete when parser.Head.IsInterim:
                    if (parser.Head.StatusCode == 101)
                    {
                        throw new LoopHttpException(uri, new HttpParseError(HttpParseErrorKind.InvalidStatusLine, "101 Switching Protocols without an Upgrade request"));
                    }

                    if (stopAtContinue && parser.Head.StatusCode == 100)
                    {
                        // Consume the interim message's (empty) end so the next read starts at the final response.
                        parser.Parse(buffer.AsSpan(start, end - start), out consumed, out _);
                        start += consumed;
                        return HeadStep.Continue;
                    }

                    break;

                case HttpParseStatus.HeadComplete:
                    // A response without a body (HEAD, 204, 304, Content-Length: 0) is complete now; say so, so a
                    // caller who never reads the body still leaves a reusable connection.
                    if (parser.Head.Framing == HttpBodyFraming.None || (parser.Head.Framing == HttpBodyFraming.ContentLength && parser.Head.ContentLength == 0))
                    {
                        StepBody(uri);
                    }

                    LoopHttpClient.Mark(pool.Client.Loop, HttpMarks.ResponseReceived);
                    return HeadStep.Final;

                case HttpParseStatus.MessageComplete:
                    break; // the end of a 1xx message

                default:
                    throw new LoopHttpException(uri, parser.Error);
            }
        }
    }

    /// <summary>Advances the parser over buffered bytes: true when it made progress (a body piece is pending, or the body ended).</summary>
    private bool StepBody(Uri uri)
    {
        var status = parser.Parse(buffer.AsSpan(start, end - start), out int consumed, out ReadOnlySpan<byte> body);
        start += consumed;
        switch (status)
        {
            case HttpParseStatus.Body:
                // The piece is a slice of our buffer ending where the parser stopped.
                pendingOffset = start - body.Length;
                pendingLength = body.Length;
                return true;

            case HttpParseStatus.MessageComplete:
                bodyComplete = true;
                return true;

            case HttpParseStatus.NeedMoreData when endOfInput:
                switch (parser.EndOfInput())
                {
                    case HttpParseStatus.MessageComplete:
                        bodyComplete = true;
                        return true;
                    default:
                        throw new LoopHttpException(LoopHttpErrorKind.IncompleteResponse, uri,
                            $"the connection closed after {parser.BodyBytesReceived} body bytes, before the response was complete ({parser.Error.Reason})");
                }

            case HttpParseStatus.NeedMoreData:
                return false;

            default:
                throw new LoopHttpException(uri, parser.Error);
        }
    }

    private void ReleaseBuffers()
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
        }

        start = end = 0;
        pendingLength = 0;
        parser.ReleaseBuffers();
    }

    private void ThrowIfBroken()
    {
        if (IsBroken)
        {
            throw new ObjectDisposedException(nameof(HttpConnection), "An earlier exchange on this connection failed.");
        }
    }
}
