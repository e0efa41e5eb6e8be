using System.Runtime.CompilerServices;

namespace Meanwhile.Http.Server;

/// <summary>
/// One client connection on one loop, as a read-and-dispatch loop (Kestrel's <c>Http1Connection</c>): read, parse, run
/// the handler, write — requests in order, and every response produced by one read leaves in one write. It hands the
/// rest to small owners: the request body to <see cref="RequestBodyReader"/>, the output to <see cref="ResponseOutput"/>
/// (both in the pooled <see cref="RequestState"/>), its deadlines to the loop's <see cref="ConnectionTimeouts"/>.
/// </summary>
/// <remarks>
/// <para>
/// Every field here is paid by every idle keep-alive connection, the common state of a server's connections; what only a
/// request needs lives in the <see cref="RequestState"/>, borrowed from the loop's pool once bytes arrive. The read
/// buffer is rented only once data is ready (a zero-byte read waits without one) and given back when the parser has
/// consumed it. The connection is its own entry in the timeouts' deadline queues: a deadline costs three fields.
/// </para>
/// <para>
/// Awaits of the loop's own operations (socket reads and writes, the pooled helpers) use <c>ConfigureAwait(false)</c>:
/// they are IValueTaskSource-backed and complete on the loop thread, so resuming inline is right and skips a trip
/// through the SynchronizationContext's queue. Never on a <see cref="Task"/>: with the loop's context installed, the
/// runtime refuses to inline such a continuation and sends it to the thread pool. Hence every helper awaited that way
/// uses the pooling builder (the disconnect watcher too), and the handler (user code) is awaited through <see cref="HandlerResumption"/>, which resumes inline only where a plain await of a Task would.
/// </para>
/// </remarks>
internal sealed partial class ServerConnection : DeadlineQueue.Entry
{
    private readonly LoopServer _server;
    // The accepted socket; over HTTPS, the TLS stream on it once the handshake is done (the socket is then its Socket).
    private DataStream _stream;

    // Set while a request is being parsed or answered; null while idle (see RequestState).
    private RequestState? _state;
    private bool _aborted;
    private bool _peerClosed;
    // The disconnect watcher's wait for data ended after the handler was done: there is something to read (data, the
    // end, an error), so the next read need not wait for it again (a second zero-byte read would peek: one system call).
    private bool _readableAfterWatch;
    // The watcher's read into the request state's buffer is pending: the state cannot go back to the pool meanwhile.
    private bool _watcherReading;

    public ServerConnection(LoopServer server, SocketStream stream)
    {
        _server = server;
        _stream = stream;
    }

    /// <summary>What the connection waits for; its deadline is its place in one of the timeouts' queues.</summary>
    public ConnectionPhase Phase { get; set; }

    /// <summary>True once a request was handed to a handler (the head timeout of later requests runs from their first byte).</summary>
    public bool ServedAny { get; private set; }

    /// <summary>Position in the loop server's connection list (swap-remove).</summary>
    public int Slot { get; set; }

    /// <summary>What requests are read from and responses written to: the socket, or the TLS stream over it.</summary>
    public DataStream Stream => _stream;

    /// <summary>The TCP socket, under TLS or not.</summary>
    public SocketStream Socket => _stream as SocketStream ?? ((TlsStream)_stream).Socket;

    /// <summary>The request state while the connection has a request; null while idle.</summary>
    public RequestState? State => _state;

    public bool IsAborted => _aborted;

    /// <summary>The client's address for logs (null once the socket is gone).</summary>
    public string? Remote
    {
        get
        {
            try { return Socket.RemoteEndPoint?.ToString(); }
            catch (ObjectDisposedException) { return null; }
        }
    }

    private HttpServerOptions Options => _server.Options;

    private bool InputEmpty => _state is null || _state.Input.Buffered == 0;

    public async Task RunAsync()
    {
        Mark(ServerMarks.ConnectionAccepted);
        bool linger = false, closeAfterResponse = false;
        try
        {
            bool serving = true;
            if (_server.Tls is { } tls)
            {
                // A Task-backed wait (SslStream's handshake): awaited plainly, so it resumes on the loop.
                var (secured, answered) = await tls.HandshakeAsync(this, (SocketStream)_stream);
                if (secured is not null) _stream = secured;
                serving = secured is not null;
                linger = answered && !_aborted; // plain HTTP on the TLS port got its 400
            }
            if (serving) _server.Timeouts.Accepted(this);
            while (serving)
            {
                if (InputEmpty)
                {
                    if (_state is { Output.Pending: > 0 }) await _state.Output.FlushAsync().ConfigureAwait(false);
                    if (_state?.Watcher is { } watcher)
                    {
                        _state.Watcher = null;
                        if (!watcher.IsCompleted) ReturnStateWhileWatched();
                        // A pooled helper that ends on the loop (its waits are the socket's): it may already have read the next
                        // bytes, or seen the client leave. Not a Task: an asynchronous handler would pay for one per request.
                        await watcher.ConfigureAwait(false);
                        if (_peerClosed) break;
                    }
                    if (InputEmpty)
                    {
                        if (_state is { } answered && Phase == ConnectionPhase.Idle && !answered.Parser.IsIdle)
                        {
                            // The last request is answered and nothing of it is left to read (a request without a
                            // body stops at its head): let the parser finish it now, so the idle wait below holds
                            // neither its storage nor a read buffer.
                            answered.Input.Parse();
                        }
                        bool between = _state is null || _state.Parser.IsIdle;
                        if (_server.IsStopping && between) break;
                        // Between requests: hold no request state and no buffer while waiting (idle memory is the point
                        // of zero-byte reads).
                        if (between) ReturnRequestState();
                        // The wait for data, with no buffer, is awaited here rather than inside ReadMoreAsync, so an
                        // idle connection is suspended in this one frame (no second async box held while it waits).
                        bool dataReady = _readableAfterWatch;
                        _readableAfterWatch = false;
                        if (!dataReady && _state is not { Input.HasBuffer: true })
                        {
                            // Cancelled: the server stops (no exception per idle connection).
                            if (!await _stream.WaitForDataAsync().ConfigureAwait(false)) break;
                            dataReady = true;
                        }
                        if (await ReadMoreAsync(dataReady).ConfigureAwait(false) == 0)
                        {
                            // The parser's contract: a head cut short by the close gets no answer, just the close.
                            _state!.Parser.EndOfInput();
                            break;
                        }
                        // The head timeout runs from a request's first byte (from the accept for the first request):
                        // started below once the parse says the head is not all here (the usual head arrives whole, and
                        // its handler's start would stop that deadline at once).
                    }
                }

                var state = _state!;
                var status = state.Input.Parse();
                if (status == HttpParseStatus.NeedMoreData)
                {
                    if (Phase == ConnectionPhase.Idle && !state.Parser.IsIdle) _server.Timeouts.HeadStarted(this);
                    // Everything read is consumed (the parser copied a partial head into its own store): hold no read
                    // buffer while waiting for the rest, so a client trickling a head (slowloris) costs no read buffer.
                    state.Input.Release();
                    continue;
                }
                if (status == HttpParseStatus.HeadComplete)
                {
                    var refused = Options.Policy.Check(state.Parser.Head);
                    if (refused.IsError)
                    {
                        if (Phase == ConnectionPhase.Idle) _server.Timeouts.HeadStarted(this);
                        Reject(refused);
                        linger = true;
                        break;
                    }
                    // The whole head came in this read: the Head phase is announced, but no head deadline is started
                    // only to be stopped by the handler's start, which follows with no wait between.
                    if (Phase == ConnectionPhase.Idle) _server.Timeouts.HeadArrivedWhole(this);
                    if (!await DispatchAsync(state).ConfigureAwait(false))
                    {
                        if (state.Response.SwitchedTo is not null)
                        {
                            // The upgraded protocol runs in this frame, not in one of its own: an upgraded connection
                            // (an idle WebSocket) holds one box less (ServerConnection.Upgrade.cs).
                            if (state.Output.Pending > 0) await state.Output.FlushAsync().ConfigureAwait(false);
                            if (_aborted || _peerClosed) break;
                            bool failed = false;
                            try
                            {
                                await SwitchProtocols(state).ConfigureAwait(true); // user code: resumes on the loop
                            }
                            catch (Exception e)
                            {
                                failed = UpgradeFailed(e);
                            }
                            try
                            {
                                await _upgrade!.OnHandlerEndedAsync(failed).ConfigureAwait(true);
                            }
                            catch (Exception e)
                            {
                                UpgradeFailed(e);
                            }
                            break;
                        }
                        closeAfterResponse = !_aborted && !_peerClosed;
                        linger = closeAfterResponse && ClientMaySendMore(state);
                        break;
                    }
                    // Responses to pipelined requests leave together, but no more than a response buffer's worth waits
                    // for the next one: a client that pipelines without reading must stall on a full socket, not make
                    // the server run every request of a read and buffer all their responses (600 per 16 KiB read).
                    if (state.Output.Pending >= Options.ResponseBufferBytes) await state.Output.FlushAsync().ConfigureAwait(false);
                    _server.Timeouts.Idle(this);
                    continue;
                }
                if (status == HttpParseStatus.Error)
                {
                    if (Phase == ConnectionPhase.Idle) _server.Timeouts.HeadStarted(this);
                    Reject(state.Parser.Error);
                    linger = true;
                    break;
                }
                throw new InvalidOperationException($"Unexpected parser event {status} between requests.");
            }
            if (_state is { Output.Pending: > 0 } && !_aborted) await _state.Output.FlushAsync().ConfigureAwait(false);
            if (linger && !_aborted) await LingerAsync().ConfigureAwait(false);
            else if (closeAfterResponse && !_aborted && _stream is TlsStream) _stream.ShutdownWrite(); // close_notify: the close is deliberate
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

    /// <summary>
    /// Reads into the empty input, renting the request state (and the read buffer) only once data is there; unless
    /// <paramref name="dataReady"/>, first waits for data without a buffer. Returns 0 at end of stream.
    /// </summary>
    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadMoreAsync(bool dataReady)
    {
        if (!dataReady && _state is not { Input.HasBuffer: true }) await _stream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
        var input = RentRequestState().Input;
        int n = await _stream.ReadAsync(input.GetReadMemory()).ConfigureAwait(false);
        input.Advance(n);
        if (n > 0) ServerMetrics.BytesRead.Add(n);
        return n;
    }

    /// <summary>Runs one request whose head is complete; returns whether the connection stays open.</summary>
    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    private async ValueTask<bool> DispatchAsync(RequestState state)
    {
        var head = state.Parser.Head;
        ServedAny = true;
        ServerMetrics.Requests.Add(1);
        _server.RequestCount++;
        state.Body.Begin(head);
        state.Request.Begin();
        state.Response.Begin(head);
        var activity = ServerActivities.Start(state.Request);
        Mark(ServerMarks.RequestReceived);
        _server.Timeouts.HandlerStarted(this);

        Exception? failure = null;
        ValueTask handling;
        try
        {
            handling = _server.Handler(state.Request, state.Response);
        }
        catch (Exception e)
        {
            handling = ValueTask.FromException(e);
        }
        if (!handling.IsCompletedSuccessfully)
        {
            if (!handling.IsCompleted && (state.Body.IsComplete || !head.HasBody) && state.Input.Buffered == 0 && state.Input.BodyAvailable == 0)
            {
                // Everything read is consumed: hold no read buffer while the handler waits (ten thousand slow requests, or
                // 64 proxied ones beyond what the shared pool keeps, would hold one each); the watcher's read rents one
                // when the client sends more.
                state.Input.Release();
                state.Watcher = WatchForDisconnectAsync(state);
            }
            try
            {
                await state.HandlerResumption.Await(handling);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }
        if (activity is not null) ServerActivities.Stop(activity, state.Response.StatusCode, failure);
        state.Body.End();
        state.Request.End();

        if (failure is null && _aborted) return false;
        if (failure is null)
        {
            try
            {
                state.Response.Validate();
            }
            catch (InvalidOperationException e)
            {
                failure = e;
            }
        }
        if (failure is not null) return HandlerFailed(state, failure);

        // Whether the rest of the request body can be read past; otherwise the connection must close after the response.
        bool canContinue = !_peerClosed && !_server.IsStopping && !state.Body.ContinuePending && state.Body.CanDrain(head);
        if (!state.Response.Complete(canContinue)) return false;
        return await state.Body.DrainAsync().ConfigureAwait(false);
    }

    /// <summary>The handler threw (or broke its response): answers what can still be answered; the connection then closes.</summary>
    private bool HandlerFailed(RequestState state, Exception failure)
    {
        if (_aborted || _peerClosed) return false;
        if (failure is HttpParseException bad && !state.Response.HasStarted)
        {
            // The body itself was malformed or too large: the parser's status, then close (no smuggling).
            Reject(bad.Error);
            return false;
        }
        ServerMetrics.HandlerErrors.Add(1);
        if (_server.Logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Error))
            ServerLog.HandlerFailed(_server.Logger, failure, state.Request.ToString(), Remote);
        if (state.Response.HasStarted)
        {
            Abort("the handler failed after its response had started");
            return false;
        }
        state.Response.Discard();
        state.Output.WriteErrorResponse(500);
        return false;
    }

    /// <summary>
    /// While an asynchronous handler works and nothing reads the socket, watch it: the client leaving cancels the
    /// handler's token. Data that arrives meanwhile (a pipelined request) is read into the buffer for the main loop.
    /// </summary>
    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder))]
    private async ValueTask WatchForDisconnectAsync(RequestState state)
    {
        try
        {
            if (!await _stream.WaitForDataAsync().ConfigureAwait(false))
            {
                // The connection's task was cancelled (the server stops): as a failed read would, without an exception
                // per idle connection.
                PeerGone(state);
                return;
            }
            // A state that went back to the pool (ReturnStateWhileWatched) may be another connection's by now: untouched.
            if (!ReferenceEquals(_state, state) || state.Body.HandlerDone || _aborted || _upgrade is not null)
            {
                // The main loop (or the upgraded protocol) reads it.
                _readableAfterWatch = !_aborted && _upgrade is null;
                return;
            }
            int n;
            _watcherReading = true;
            try { n = await _stream.ReadAsync(state.Input.GetReadMemory()).ConfigureAwait(false); }
            finally { _watcherReading = false; }
            if (n > 0)
            {
                state.Input.Advance(n);
                ServerMetrics.BytesRead.Add(n);
            }
            else
            {
                _peerClosed = true;
                state.CancelAbortToken();
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SystemCallException or OperationCanceledException)
        {
            PeerGone(state);
        }
    }

    /// <summary>The watcher's read failed or was cancelled: the handler's abort token says so.</summary>
    private void PeerGone(RequestState state)
    {
        _peerClosed = true;
        // After an upgrade, or once the handler was done (ReturnStateWhileWatched), the state went back to the pool.
        if (_upgrade is null && ReferenceEquals(_state, state)) state.CancelAbortToken();
    }

    /// <summary>
    /// The handler is done and the disconnect watcher still waits for the client's next request, which may be long: the
    /// connection gives its request state back now (parser, head store, read buffer), so an idle keep-alive connection
    /// holds none, as after a synchronous handler. The watcher leaves a state it no longer owns alone.
    /// </summary>
    private void ReturnStateWhileWatched()
    {
        if (_watcherReading || _state is not { } answered || answered.Input.Buffered != 0 || Phase != ConnectionPhase.Idle) return;
        if (!answered.Parser.IsIdle) answered.Input.Parse(); // a request without a body stops at its head
        if (answered.Parser.IsIdle && answered.Input.Buffered == 0 && answered.Input.BodyAvailable == 0) ReturnRequestState();
    }

    private RequestState RentRequestState() => _state ??= _server.RentRequestState(this);

    /// <summary>Gives the request state back to the loop's pool; only between requests (parser idle).</summary>
    private void ReturnRequestState()
    {
        if (_state is not { } state) return;
        _state = null;
        _server.ReturnRequestState(state);
    }

    /// <summary>Answers a refused message with its status and <c>Connection: close</c>; the caller then closes.</summary>
    public void Reject(HttpParseError error)
    {
        ServerMetrics.Rejected.Add(1);
        ServerLog.Rejected(_server.Logger, Remote, error.ToString());
        _state!.Output.WriteErrorResponse(error.StatusCode == 0 ? 400 : error.StatusCode);
    }

    protected override void OnExpired() => _server.Timeouts.Expired(this);

    /// <summary>Records a step for timelines (<see cref="ServerMarks"/>), in this connection's task; one field test when not recording.</summary>
    public void Mark(string label)
    {
        var recorder = _server.Loop.Recorder;
        if (recorder.IsEnabled) recorder.Mark(label);
    }
}
