using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Meanwhile.Http.Server;

/// <summary>
/// One client connection on one loop: read, parse, run the handler, write — requests in order, and every response
/// produced by one read leaves in one write.
/// </summary>
/// <remarks>
/// <para>The read buffer is rented from the pool only once data is ready (a zero-byte read waits without one) and is
/// returned as soon as the parser has consumed it, so an idle keep-alive connection holds no buffer; nor a parser, request
/// or response, which it borrows from the loop's pool for as long as it has a request (<see cref="RequestState"/>). The
/// parser owns the head; body bytes are handed to the handler straight from the read buffer.</para>
/// <para>Deadlines are fields the loop's one-second heartbeat compares with the clock: no timer per request.</para>
/// <para>Awaits of the loop's own operations (socket reads and writes, this class's pooled helpers) use
/// <c>ConfigureAwait(false)</c>: they are IValueTaskSource-backed and complete on the loop thread, so resuming inline is
/// right and skips a trip through the SynchronizationContext's queue, with the delegate it allocates. Never on a
/// <see cref="Task"/>: with the loop's context installed, the runtime refuses to inline such a continuation and sends it
/// to the thread pool. Hence every helper awaited that way uses the pooling builder, and the handler's task (user code,
/// which may complete elsewhere) and the watcher task are awaited plainly.</para>
/// </remarks>
internal sealed partial class HttpConnection
{
    private readonly LoopServer _server;
    private readonly SocketStream _stream;

    // Rented from the loop's pool when bytes arrive, given back when the connection goes idle (RequestState): null
    // between requests, set whenever a request is being parsed or answered. What only a request needs lives there, not
    // in a field here: every field of this class is paid by every idle connection.
    private RequestState? _state;

    private byte[]? _input;
    private int _inputStart;
    private int _inputEnd;

    private bool _messageComplete;
    private bool _continuePending;
    private bool _handlerDone;

    private Task? _watcher;
    private CancellationTokenSource? _abortSource;
    private bool _aborted;
    private bool _peerClosed;

    public HttpConnection(LoopServer server, SocketStream stream)
    {
        _server = server;
        _stream = stream;
    }

    private HttpServerOptions Options => _server.Options;

    private HttpRequestParser Parser => _state!.Parser;

    private ServerRequest Request => _state!.Request;

    private ServerResponse Response => _state!.Response;

    // Body bytes the parser has delimited but the handler has not taken yet: a range of _input.
    private ref int BodyStart => ref _state!.BodyStart;

    private ref int BodyLength => ref _state!.BodyLength;

    // Minimum body data rate: time spent waiting for body bytes, when the current wait began, and whether one is on.
    private ref long BodyWaitTicks => ref _state!.BodyWaitTicks;

    private ref long BodyWaitStart => ref _state!.BodyWaitStart;

    private ref bool BodyWaiting => ref _state!.BodyWaiting;

    /// <summary>The connection's phase; with <see cref="Deadline"/>, what the heartbeat checks.</summary>
    public ConnectionPhase Phase { get; private set; }

    /// <summary>When the current phase times out (a loop timestamp), or 0 for never.</summary>
    public long Deadline { get; private set; }

    /// <summary>Position in the loop server's connection list (swap-remove).</summary>
    internal int Slot { get; set; }

    internal SocketStream Stream => _stream;

    internal LoopServer Server => _server;

    /// <summary>Where responses are written until the next flush (part of the request state).</summary>
    internal PooledByteBuffer Output => _state!.Output;

    /// <summary>Response bytes waiting for a flush; none while no request state is held.</summary>
    private int PendingOutput => _state?.Output.Length ?? 0;

    internal HttpRequestHead Head => Parser.Head;

    /// <summary>The client's address for logs (null once the socket is gone).</summary>
    internal string? Remote
    {
        get
        {
            try { return _stream.RemoteEndPoint?.ToString(); }
            catch (ObjectDisposedException) { return null; }
        }
    }

    /// <summary>The handler's cancellation token: fires when the client goes away, a timeout hits, or shutdown runs out of time.</summary>
    internal CancellationToken AbortToken
    {
        get
        {
            _abortSource ??= new CancellationTokenSource();
            if (_aborted && !_abortSource.IsCancellationRequested) _abortSource.Cancel();
            return _abortSource.Token;
        }
    }

    internal bool IsAborted => _aborted;

    public async Task RunAsync()
    {
        Mark(ServerMarks.ConnectionAccepted);
        SetPhase(ConnectionPhase.Idle, Options.RequestHeadTimeout);
        bool linger = false;
        try
        {
            while (true)
            {
                if (_inputStart == _inputEnd)
                {
                    if (PendingOutput > 0) await FlushAsync().ConfigureAwait(false);
                    if (_watcher is { } watcher)
                    {
                        _watcher = null;
                        await watcher; // a Task: awaited plainly, so it resumes on the loop; it may already have read the next bytes, or seen the client leave
                        if (_peerClosed) break;
                    }
                    if (_inputStart == _inputEnd)
                    {
                        if (_state is not null && Phase == ConnectionPhase.Idle && !Parser.IsIdle)
                        {
                            // The last request is answered and nothing of it is left to read (a request without a
                            // body stops at its head): let the parser finish it now, so the idle wait below holds
                            // neither the parser's storage nor a read buffer.
                            Parser.Parse(ReadOnlySpan<byte>.Empty, out _, out _);
                        }
                        bool between = _state is null || Parser.IsIdle;
                        if (_server.IsStopping && between) break;
                        if (between)
                        {
                            // Between requests: hold no buffer and no request state while waiting (idle memory is the
                            // point of zero-byte reads).
                            ReturnRequestState();
                            ReleaseInput();
                        }
                        // The wait for data, with no buffer, is awaited here rather than inside ReadMoreAsync, so an
                        // idle connection is suspended in this one frame (no second async box held while it waits).
                        if (_input is null)
                        {
                            await _stream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
                            _input = ArrayPool<byte>.Shared.Rent(Options.ReadBufferBytes);
                        }
                        int n = await ReadMoreAsync().ConfigureAwait(false);
                        if (n == 0)
                        {
                            // The parser's contract: a head cut short by the close gets no answer, just the close.
                            Parser.EndOfInput();
                            break;
                        }
                        // The head timeout runs from a request's first byte (from the accept for the first request).
                        if (Phase == ConnectionPhase.Idle)
                        {
                            if (_requests > 0) SetPhase(ConnectionPhase.Head, Options.RequestHeadTimeout);
                            else SetPhase(ConnectionPhase.Head, Deadline);
                        }
                    }
                }

                var status = Parser.Parse(_input.AsSpan(_inputStart, _inputEnd - _inputStart), out int consumed, out _);
                _inputStart += consumed;
                if (status == HttpParseStatus.NeedMoreData)
                {
                    if (Phase == ConnectionPhase.Idle && !Parser.IsIdle) SetPhase(ConnectionPhase.Head, Options.RequestHeadTimeout);
                    // Everything read is consumed (the parser copied a partial head into its own store): hold no
                    // read buffer while waiting for the rest, so a client trickling a head (slowloris) costs no 16 KiB.
                    if (_input is not null) ReleaseInput();
                    continue;
                }
                if (status == HttpParseStatus.HeadComplete)
                {
                    var refused = Options.Policy.Check(Parser.Head);
                    if (refused.IsError)
                    {
                        Reject(refused);
                        linger = true;
                        break;
                    }
                    if (!await ProcessRequestAsync().ConfigureAwait(false))
                    {
                        linger = !_aborted && !_peerClosed;
                        break;
                    }
                    // Responses to pipelined requests leave together, but no more than a response buffer's worth waits
                    // for the next one: a client that pipelines without reading must stall on a full socket, not make
                    // the server run every request of a read and buffer all their responses (600 per 16 KiB read).
                    if (PendingOutput >= Options.ResponseBufferBytes) await FlushAsync().ConfigureAwait(false);
                    EnterIdle();
                    continue;
                }
                if (status == HttpParseStatus.Error)
                {
                    Reject(Parser.Error);
                    linger = true;
                    break;
                }
                throw new InvalidOperationException($"Unexpected parser event {status} between requests.");
            }
            if (PendingOutput > 0 && !_aborted) await FlushAsync().ConfigureAwait(false);
            if (linger && !_aborted) await LingerAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is ObjectDisposedException or SystemCallException or OperationCanceledException || _aborted)
        {
            // The connection was closed under us (timeout, shutdown) or the client reset it: nothing left to say.
            if (!_aborted && e is SystemCallException) ServerLog.ConnectionFailed(_server.Logger, e, Remote);
        }
        catch (Exception e)
        {
            ServerLog.ConnectionFailed(_server.Logger, e, Remote);
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    private int _requests;

    /// <summary>Runs one request whose head is complete; returns whether the connection stays open.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ProcessRequestAsync()
    {
        var head = Parser.Head;
        _requests++;
        ServerMetrics.Requests.Add(1);
        _messageComplete = false;
        BodyLength = 0;
        BodyWaitTicks = 0;
        _handlerDone = false;
        // 100-continue: sent when the handler first waits for body bytes the client has not sent (see ReadBodyAsync).
        _continuePending = head.ExpectsContinue && head.HasBody && _inputStart == _inputEnd;
        Request.Begin();
        Response.Begin(head);
        Mark(ServerMarks.RequestReceived);
        SetPhase(ConnectionPhase.Handler, TimeSpan.Zero);

        Exception? failure = null;
        ValueTask handling;
        try
        {
            handling = _server.Handler(Request, Response);
        }
        catch (Exception e)
        {
            handling = ValueTask.FromException(e);
        }
        if (!handling.IsCompletedSuccessfully)
        {
            if (!handling.IsCompleted && (_messageComplete || !head.HasBody) && _inputStart == _inputEnd && BodyLength == 0)
                _watcher = WatchForDisconnectAsync();
            try
            {
                await handling;
            }
            catch (Exception e)
            {
                failure = e;
            }
        }
        _handlerDone = true;
        Request.End();

        if (failure is null && _aborted) return false;
        if (failure is null)
        {
            try
            {
                Response.Validate();
            }
            catch (InvalidOperationException e)
            {
                failure = e;
            }
        }
        if (failure is not null)
        {
            if (_aborted || _peerClosed) return false;
            if (failure is HttpParseException bad && !Response.HasStarted)
            {
                // The body itself was malformed or too large: the parser's status, then close (no smuggling).
                Reject(bad.Error);
                return false;
            }
            ServerMetrics.HandlerErrors.Add(1);
            ServerLog.HandlerFailed(_server.Logger, failure, Remote);
            if (Response.HasStarted)
            {
                Abort("the handler failed after its response had started");
                return false;
            }
            Response.Discard();
            WriteErrorResponse(500);
            return false;
        }

        // Whether the rest of the request body can be read past; otherwise the connection must close after the response.
        bool canContinue = !_peerClosed && !_server.IsStopping && !_continuePending && BodyDrainable(head);
        bool keepAlive = Response.Complete(canContinue);
        if (!keepAlive) return false;
        return await DrainBodyAsync().ConfigureAwait(false);
    }

    private bool BodyDrainable(HttpRequestHead head)
    {
        if (_messageComplete || !head.HasBody) return true;
        if (DrainBuffered()) return true;
        if (head.Framing == HttpBodyFraming.ContentLength)
            return head.ContentLength - Parser.BodyBytesReceived + BodyLength <= Options.MaxDrainBytes;
        return false; // chunked: unknown remainder; reading it could take any time
    }

    /// <summary>Discards the body bytes already received, without reading the socket; true once the message is complete.</summary>
    private bool DrainBuffered()
    {
        BodyLength = 0;
        while (!_messageComplete)
        {
            var status = Parser.Parse(_input.AsSpan(_inputStart, _inputEnd - _inputStart), out int consumed, out _);
            _inputStart += consumed;
            if (status == HttpParseStatus.MessageComplete) _messageComplete = true;
            else if (status != HttpParseStatus.Body) return false; // needs more bytes, or the body is malformed: close after the response
        }
        return true;
    }

    /// <summary>Reads and discards what the handler left of the body, so the next request starts where it should.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> DrainBodyAsync()
    {
        BodyLength = 0;
        while (!_messageComplete)
        {
            int n = await ReadBodyCoreAsync(Memory<byte>.Empty, discard: true).ConfigureAwait(false);
            if (n < 0) return false;
        }
        return true;
    }

    /// <summary>Body bytes for the handler: straight from the read buffer, reading the socket when it is empty.</summary>
    internal ValueTask<int> ReadBodyAsync(Memory<byte> destination)
    {
        if (_handlerDone) throw new InvalidOperationException("The request body can only be read while its handler runs.");
        if (BodyLength > 0 && !destination.IsEmpty) return new ValueTask<int>(TakeBody(destination.Span));
        if (_messageComplete) return new ValueTask<int>(0);
        return ReadBodyCoreAsync(destination, discard: false);
    }

    private int TakeBody(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, BodyLength);
        _input.AsSpan(BodyStart, n).CopyTo(destination);
        BodyStart += n;
        BodyLength -= n;
        return n;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadBodyCoreAsync(Memory<byte> destination, bool discard)
    {
        while (true)
        {
            if (BodyLength > 0)
            {
                if (discard)
                {
                    BodyLength = 0;
                    continue;
                }
                if (!destination.IsEmpty) return TakeBody(destination.Span);
                return 0;
            }
            if (_messageComplete) return 0;
            var status = Parser.Parse(_input.AsSpan(_inputStart, _inputEnd - _inputStart), out int consumed, out var body);
            switch (status)
            {
                case HttpParseStatus.Body:
                    BodyStart = _inputStart + consumed - body.Length;
                    BodyLength = body.Length;
                    _inputStart += consumed;
                    continue;
                case HttpParseStatus.MessageComplete:
                    _inputStart += consumed;
                    _messageComplete = true;
                    return 0;
                case HttpParseStatus.NeedMoreData:
                    _inputStart += consumed;
                    if (await WaitForBodyBytesAsync().ConfigureAwait(false) == 0)
                    {
                        if (discard) return -1;
                        throw new EndOfStreamException($"The client closed the connection before the request body ended ({_stream.Description}).");
                    }
                    continue;
                case HttpParseStatus.Error:
                    if (discard)
                    {
                        Reject(Parser.Error);
                        return -1;
                    }
                    throw new HttpParseException(Parser.Error);
                default:
                    throw new InvalidOperationException($"Unexpected parser event {status} inside a request body.");
            }
        }
    }

    /// <summary>Reads more of the body from the socket, sending the pending 100 Continue first. Returns 0 if the client left.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> WaitForBodyBytesAsync()
    {
        if (_continuePending)
        {
            // The client waits for this before it sends the body (RFC 9110 10.1.1): only now is the body wanted.
            _continuePending = false;
            HttpHeadWriter.WriteStatusLine(Output, HttpProtocolVersion.Http11, 100, HttpReasonPhrases.Get(100));
            HttpHeadWriter.WriteEndOfHead(Output);
        }
        if (PendingOutput > 0) await FlushAsync().ConfigureAwait(false);
        var previous = Phase;
        // The wait's start is read before the phase is announced: a test hook (or anything else) acting on the phase
        // change must find the clock reading it belongs to.
        BodyWaitStart = _server.Now;
        BodyWaiting = true;
        SetPhase(ConnectionPhase.Body, 0L);
        int n;
        try
        {
            n = await ReadMoreAsync().ConfigureAwait(false);
        }
        catch (SystemCallException)
        {
            // A reset inside the body: the handler's read throws the typed error, and its token fires as for a close.
            _peerClosed = true;
            Abort("the connection failed inside the request body");
            throw;
        }
        finally
        {
            BodyWaitTicks += _server.Now - BodyWaitStart;
            BodyWaiting = false;
            if (Phase == ConnectionPhase.Body) SetPhase(previous, 0L);
        }
        if (n == 0)
        {
            _peerClosed = true;
            Abort("the client closed the connection inside the request body");
        }
        return n;
    }

    /// <summary>
    /// Reads into an empty input buffer, renting it (and the request state) only once data is there. Returns 0 at end
    /// of stream.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadMoreAsync()
    {
        if (_input is null)
        {
            await _stream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false); // wait for data without holding a buffer
            _input = ArrayPool<byte>.Shared.Rent(Options.ReadBufferBytes);
        }
        RentRequestState();
        _inputStart = _inputEnd = 0;
        int n = await _stream.ReadAsync(_input).ConfigureAwait(false);
        _inputEnd = n;
        if (n > 0) ServerMetrics.BytesRead.Add(n);
        return n;
    }

    private void RentRequestState()
    {
        if (_state is not null) return;
        _state = _server.RentRequestState(this);
    }

    /// <summary>Gives the parser, request and response back to the loop's pool; only between requests (parser idle).</summary>
    private void ReturnRequestState()
    {
        if (_state is not { } state) return;
        _state = null;
        state.Parser.ReleaseBuffers();
        _server.ReturnRequestState(state);
    }

    private void ReleaseInput()
    {
        if (_input is { } input)
        {
            _input = null;
            _inputStart = _inputEnd = 0;
            ArrayPool<byte>.Shared.Return(input);
        }
    }

    /// <summary>
    /// While an asynchronous handler works and nothing reads the socket, watch it: the client leaving cancels the
    /// handler's token. Data that arrives meanwhile (a pipelined request) is read into the buffer for the main loop.
    /// </summary>
    private async Task WatchForDisconnectAsync()
    {
        try
        {
            await _stream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
            if (_handlerDone || _aborted) return; // the main loop reads it
            _input ??= ArrayPool<byte>.Shared.Rent(Options.ReadBufferBytes);
            int n = await _stream.ReadAsync(_input).ConfigureAwait(false);
            _inputStart = 0;
            _inputEnd = n;
            if (n > 0) ServerMetrics.BytesRead.Add(n);
            else
            {
                _peerClosed = true;
                CancelHandler();
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SystemCallException or OperationCanceledException)
        {
            _peerClosed = true;
            CancelHandler();
        }
    }

    /// <summary>Sends everything in the output buffer in one write; waits while the client is slow (backpressure).</summary>
    internal ValueTask FlushAsync()
    {
        if (PendingOutput == 0) return ValueTask.CompletedTask;
        var output = Output;
        var pending = _stream.WriteAsync(output.WrittenMemory);
        if (pending.IsCompletedSuccessfully)
        {
            ServerMetrics.BytesWritten.Add(output.Length);
            output.Clear();
            Mark(ServerMarks.ResponseSent);
            return ValueTask.CompletedTask;
        }
        return FlushSlowAsync(pending);
    }

    /// <summary>Records a step for timelines (<see cref="ServerMarks"/>), in this connection's task; one field test when not recording.</summary>
    private void Mark(string label)
    {
        var recorder = _server.Loop.Recorder;
        if (recorder.IsEnabled) recorder.Mark(label);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushSlowAsync(ValueTask pending)
    {
        var previous = Phase;
        var previousDeadline = Deadline;
        SetPhase(ConnectionPhase.Write, Options.ResponseWriteTimeout);
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (SystemCallException)
        {
            // The client reset or left: the handler's token fires now (a handler that catches the write error and
            // waits on it would otherwise wait forever), and it is not reported as the handler's failure.
            _peerClosed = true;
            Abort("the connection failed while a response was written");
            throw;
        }
        ServerMetrics.BytesWritten.Add(Output.Length);
        Output.Clear();
        Mark(ServerMarks.ResponseSent);
        if (Phase == ConnectionPhase.Write)
        {
            Phase = previous;
            Deadline = previousDeadline;
        }
    }

    /// <summary>Answers a refused message with its status and <c>Connection: close</c>; the caller then closes.</summary>
    private void Reject(HttpParseError error)
    {
        ServerMetrics.Rejected.Add(1);
        ServerLog.Rejected(_server.Logger, Remote, error.ToString());
        WriteErrorResponse(error.StatusCode == 0 ? 400 : error.StatusCode);
    }

    /// <summary>A bodiless error response that closes the connection.</summary>
    internal void WriteErrorResponse(int status)
    {
        HttpHeadWriter.WriteStatusLine(Output, HttpProtocolVersion.Http11, status, HttpReasonPhrases.Get(status));
        Output.Write(_server.Date.Line);
        _server.WriteServerHeader(Output);
        Output.Write("Content-Length: 0\r\nConnection: close\r\n\r\n"u8);
    }

    /// <summary>
    /// Half-closes, then discards what the client still sends until it closes too or the linger time passes: closing
    /// a socket with unread data makes the kernel send a reset, which can destroy the response before it is read.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask LingerAsync()
    {
        SetPhase(ConnectionPhase.Linger, Options.LingerTimeout);
        ReleaseInput();
        _stream.ShutdownWrite();
        byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            long budget = 1024 * 1024;
            while (budget > 0)
            {
                int n = await _stream.ReadAsync(scratch).ConfigureAwait(false);
                if (n == 0) break;
                budget -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Ends the connection now (timeout, shutdown deadline, broken response): the handler's token fires and pending I/O ends.</summary>
    /// <param name="reason">Why, for the log.</param>
    internal void Abort(string reason)
    {
        if (_aborted) return;
        ServerLog.Aborted(_server.Logger, Remote, reason);
        _aborted = true;
        CancelHandler();
        try
        {
            // FIN before the close: a socket closed while a read is pending may be closed abortively (the portable
            // reactor's .NET sockets send a reset), and a reset can destroy what the client has not read yet.
            if (!_stream.IsClosed && !_peerClosed) _stream.ShutdownWrite();
        }
        catch (Exception e) when (e is SystemCallException or ObjectDisposedException or InvalidOperationException)
        {
            // the peer is gone already: nothing to tell it
        }
        _stream.Dispose(); // pending reads and writes end with ObjectDisposedException
    }

    private void CancelHandler()
    {
        if (_abortSource is { IsCancellationRequested: false } source)
        {
            try { source.Cancel(); }
            catch (AggregateException e) { ServerLog.ConnectionFailed(_server.Logger, e, Remote); }
        }
    }

    /// <summary>Called by the heartbeat: acts on an expired deadline (or a body arriving too slowly).</summary>
    internal void CheckDeadline(long now)
    {
        if (Phase == ConnectionPhase.Body && Options.MinRequestBodyDataRate > 0 && BodyWaiting)
        {
            long waited = BodyWaitTicks + (now - BodyWaitStart);
            double seconds = (double)waited / _server.Loop.Time.TimestampFrequency;
            if (seconds > Options.MinRequestBodyDataRateGracePeriod.TotalSeconds && Parser.BodyBytesReceived < Options.MinRequestBodyDataRate * seconds)
            {
                TimeOut("request body arrives slower than the minimum data rate");
            }
            return;
        }
        if (Deadline == 0 || now < Deadline) return;
        switch (Phase)
        {
            case ConnectionPhase.Head:
                // Nothing is being written in these phases: the 408 goes straight out before the close.
                WriteErrorResponse(408);
                var pending = _stream.WriteAsync(Output.WrittenMemory);
                Output.Clear();
                if (!pending.IsCompleted) _ = pending.AsTask();
                TimeOut("request head timeout");
                break;
            case ConnectionPhase.Idle:
                TimeOut("keep-alive timeout");
                break;
            case ConnectionPhase.Write:
                TimeOut("the client does not read its response");
                break;
            case ConnectionPhase.Linger:
                Abort("linger time over");
                break;
        }
    }

    private void TimeOut(string reason)
    {
        ServerMetrics.Timeouts.Add(1);
        Abort(reason);
    }

    /// <summary>On graceful shutdown: a connection between requests closes now; one with a request in progress finishes it.</summary>
    internal void OnShutdown()
    {
        if (Phase == ConnectionPhase.Idle) Abort("server shutting down");
    }

    private void SetPhase(ConnectionPhase phase, TimeSpan timeout) =>
        SetPhase(phase, timeout > TimeSpan.Zero ? _server.Now + (long)(timeout.TotalSeconds * _server.Loop.Time.TimestampFrequency) : 0);

    private void SetPhase(ConnectionPhase phase, long deadline)
    {
        Phase = phase;
        Deadline = deadline;
        Options.PhaseObserver?.Invoke(phase);
    }

    /// <summary>Sets the keep-alive deadline once a response is out and the connection waits for the next request.</summary>
    internal void EnterIdle() => SetPhase(ConnectionPhase.Idle, Options.KeepAliveTimeout);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CloseAsync()
    {
        try
        {
            if (_watcher is { } watcher)
            {
                _watcher = null;
                if (!watcher.IsCompleted) _stream.Dispose();
                await watcher;
            }
            SetPhase(ConnectionPhase.Closed, 0L);
            ReleaseInput();
            if (_state is not null)
            {
                Response.Discard();
                Output.Release();
                if (Parser.IsIdle) ReturnRequestState();
                else
                {
                    // Closed inside a request: this state is not reused.
                    Parser.Dispose();
                    _state.Detach();
                    _state = null;
                }
            }
            _abortSource?.Dispose();
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ServerLog.ConnectionFailed(_server.Logger, e, Remote);
        }
        finally
        {
            // Whatever happened, the server must stop counting this connection, or a graceful shutdown waits forever.
            _server.Remove(this);
        }
    }
}
