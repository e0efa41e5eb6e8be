using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;
using Meanwhile.Http;

namespace Meanwhile.Http.Client;

/// <summary>
/// The life of one call to <see cref="LoopHttpClient.SendAsync"/>, redirects included, until its response is
/// disposed: its timeouts, the caller's cancellation, and the connection it is using. Pooled by the client: a warm
/// exchange costs no allocation.
/// </summary>
/// <remarks>
/// <para>
/// Timeouts are places in the client's <see cref="DeadlineQueue"/>s (one per configured timeout), not timers. When
/// one expires, or the caller's token fires, the exchange ends: the connection it uses is closed (its pending read
/// or write ends at once, as the server ends a connection whose deadline passed), and the waits that are not on a
/// connection (a free connection, a connect, a TLS handshake, a <c>100 Continue</c>) see <see cref="SlowToken"/>
/// cancelled. That token's source is created only when such a wait happens, so a request on a kept-alive connection
/// allocates none. Whatever the layers below then throw, <see cref="Translate"/> reports what really happened.
/// </para>
/// <para>
/// It is also what <see cref="LoopHttpClient.SendAsync"/> returns, as the source of a <see cref="ValueTask{TResult}"/>.
/// The fast path — a request without a body on an idle kept-alive connection — is written out by hand here
/// (<see cref="StartFast"/>, <see cref="ContinueFast"/>): write the head, read until the response head is parsed,
/// with the connection's read awaited through a cached delegate. No async method, no box, no task: the server's
/// discipline (per-connection objects reused, nothing per request but what the caller keeps, the response). Everything
/// else (no idle connection, pipelining, bodies, 100-continue, redirects, a retry after a stale connection) runs the
/// general path, <see cref="RunGeneralAsync"/>, an ordinary async method.
/// </para>
/// <para>Loop thread only; a caller's token cancelled on another thread is posted to the loop.</para>
/// </remarks>
internal sealed class Exchange : IValueTaskSource<LoopHttpResponse>
{
    private readonly LoopHttpClient _client;
    private readonly DeadlineEntry _whole;
    private readonly DeadlineEntry _phase;
    private CancellationTokenSource? _slow;
    private CancellationTokenRegistration _callerRegistration;
    private CancellationToken _callerToken;
    private int _generation;

    // The fast path's state.
    private readonly Action _onReceived;
    private readonly Action _onConnected;
    private TaskAwaiter<HttpConnection> _connecting;
    private OriginPool? _connectPool;
    private byte[]? _connectTarget;
    private LoopHttpRequest _request = null!;
    private HttpConnection? _fastConnection;
    private bool _fastReused;
    private bool _fastHeadSent;
    private OriginPool? _queuedPool;
    private byte[]? _queuedTarget;
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _pendingRead;

    // The value-task source's state (ManualResetValueTaskSourceCore would post every completion to the loop's
    // context with a new tuple; running the continuation inline when the context is already the right one is both
    // cheaper and what the runtime does for a Task).
    private short _version;
    private bool _completed;
    private bool _finishOnResult;
    private LoopHttpResponse? _result;
    private ExceptionDispatchInfo? _error;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private object? _capturedContext;
    private ExecutionContext? _capturedExecution;

    public Exchange(LoopHttpClient client)
    {
        this._client = client;
        _whole = new DeadlineEntry(this) { Kind = LoopHttpErrorKind.RequestTimeout };
        _phase = new DeadlineEntry(this);
        _onReceived = OnReceived;
        _onConnected = OnConnected;
    }

    /// <summary>Which timeout ended the exchange, if one did.</summary>
    public LoopHttpErrorKind? Fired { get; private set; }

    /// <summary>True once the caller's token ended the exchange.</summary>
    public bool Canceled { get; private set; }

    /// <summary>True once a timeout or the caller ended the exchange: everything it still waits for fails.</summary>
    public bool Ended => Fired is not null || Canceled;

    /// <summary>The connection this exchange is using (from acquiring it until its response is released), closed if it ends.</summary>
    public HttpConnection? Connection { get; set; }

    /// <summary>A token for the waits that are not on a connection; created on first use.</summary>
    public CancellationToken SlowToken
    {
        get
        {
            if (_slow is null)
            {
                _slow = new CancellationTokenSource();
                if (Ended)
                {
                    _slow.Cancel();
                }
            }

            return _slow.Token;
        }
    }

    /// <summary>Starts the exchange: the whole-request timeout runs from now, and <paramref name="token"/> can end it.</summary>
    public void Start(DeadlineQueue? requestTimeout, CancellationToken token)
    {
        requestTimeout?.Add(_whole);
        _callerToken = token;
        if (token.CanBeCanceled)
        {
            _callerRegistration = Link(token);
        }
    }

    /// <summary>Makes <paramref name="token"/> end the exchange too (a body read's own token); dispose the result when the read is over.</summary>
    public CancellationTokenRegistration Link(CancellationToken token)
    {
        if (!token.CanBeCanceled)
        {
            return default;
        }

        int current = _generation;
        return token.UnsafeRegister(static (state, token) =>
        {
            var (self, generation) = ((Exchange, int))state!;
            if (self._client.Loop.IsLoopThread)
            {
                self.Cancel(generation, token);
            }
            else
            {
                try
                {
                    self._client.Loop.Post(static s => { var (self, generation, token) = ((Exchange, int, CancellationToken))s!; self.Cancel(generation, token); }, (self, generation, token));
                }
                catch (ObjectDisposedException)
                {
                    // the loop is gone, and the exchange with it
                }
            }
        }, (this, current));
    }

    /// <summary>Starts the countdown of one phase (connect, response head) in <paramref name="queue"/>; null runs none.</summary>
    public void StartPhase(DeadlineQueue? queue, LoopHttpErrorKind kind)
    {
        EndPhase();
        if (queue is not null)
        {
            _phase.Kind = kind;
            queue.Add(_phase);
        }
    }

    /// <summary>Stops the current phase's countdown.</summary>
    public void EndPhase() => _phase.Queue?.Remove(_phase);

    /// <summary>A timeout passed.</summary>
    public void Expire(LoopHttpErrorKind kind)
    {
        if (Ended)
        {
            return;
        }

        Fired = kind;
        End();
    }

    /// <summary>The exception to throw for <paramref name="error"/>: what really ended the exchange, if something did.</summary>
    public Exception Translate(Exception error, Uri uri)
    {
        if (Fired is { } kind)
        {
            return error is LoopHttpException { IsTimeout: true } ? error : new LoopHttpException(kind, uri, kind switch
            {
                LoopHttpErrorKind.ConnectTimeout => "the connection was not established in time",
                LoopHttpErrorKind.ResponseHeadersTimeout => "the response head did not arrive in time",
                _ => "the request did not complete in time",
            }, error);
        }

        if (Canceled)
        {
            return error is OperationCanceledException canceled && canceled.CancellationToken == _callerToken
                ? error
                : new OperationCanceledException("The request was cancelled.", error, _callerToken);
        }

        return Failures.Translate(error, uri);
    }

    /// <summary>Sends <paramref name="first"/>: the fast path when it applies, the general path otherwise.</summary>
    public ValueTask<LoopHttpResponse> Send(LoopHttpRequest first)
    {
        _request = first;
        var pool = _client.PoolFor(first.Uri, out byte[] target);
        if (first.Body is null && !first.ExpectContinue && pool.TryTakeIdle() is { } connection)
        {
            StartFast(connection, pool, target);
        }
        else if (first.Body is null && !first.ExpectContinue && pool.TryTakeSlot())
        {
            StartConnect(pool, target);
        }
        else
        {
            _ = RunGeneralAsync(first, 0, null);
        }

        return new ValueTask<LoopHttpResponse>(this, _version);
    }

    /// <summary>The fast path on a new connection: open it (one async method), then carry on as on a kept-alive one.</summary>
    private void StartConnect(OriginPool pool, byte[] target)
    {
        _connectPool = pool;
        _connectTarget = target;
        _connecting = _client.OpenAsync(pool, this).GetAwaiter();
        if (_connecting.IsCompleted)
        {
            OnConnected();
        }
        else
        {
            _connecting.UnsafeOnCompleted(_onConnected);
        }
    }

    private void OnConnected()
    {
        var opening = _connecting;
        _connecting = default;
        var (pool, target) = (_connectPool!, _connectTarget!);
        _connectPool = null;
        _connectTarget = null;
        HttpConnection connection;
        try
        {
            connection = opening.GetResult(); // a failure has already given the slot back
        }
        catch (Exception e)
        {
            Fail(e, _request.Uri);
            return;
        }

        StartFast(connection, pool, target);
    }

    private void StartFast(HttpConnection connection, OriginPool pool, byte[] target)
    {
        _fastConnection = connection;
        Connection = connection;
        _fastReused = connection.Completed > 0 || connection.InFlight > 1;
        _fastHeadSent = false;
        try
        {
            connection.BeginExclusive();
        }
        catch (Exception e)
        {
            FailFast(e);
            return;
        }

        // The head is written out when it is sent: sixty-four heads waiting for the same turn would each hold a
        // buffer, more than the shared array pool keeps.
        _queuedPool = pool;
        _queuedTarget = target;
        // The read that follows the write must belong to the caller's task, as if it had started at once: the loop
        // knows the task by this context (its introspection shows the wait; cancelling the task ends it).
        QueuedContext = SynchronizationContext.Current;
        _client.QueueSend(this);
    }

    /// <summary>The caller's context when <see cref="StartFast"/> queued the request: the client sends it under that context.</summary>
    public SynchronizationContext? QueuedContext { get; private set; }

    /// <summary>Writes and sends the head of the request <see cref="StartFast"/> queued (the client sends those of a turn together), then reads.</summary>
    public void SendQueuedHead()
    {
        var (pool, target) = (_queuedPool!, _queuedTarget!);
        _queuedPool = null;
        _queuedTarget = null;
        QueuedContext = null;
        var head = _client.RentWriter();
        try
        {
            _client.WriteHead(head, _request, pool, target);
            var write = _fastConnection!.WriteExclusive(head);
            if (!write.IsCompletedSuccessfully)
            {
                // The kernel's send buffer is full (rare for a head): finish the write in an async method.
                _ = WriteThenContinueAsync(write, head);
                return;
            }

            write.GetAwaiter().GetResult();
            _client.ReturnWriter(head);
        }
        catch (Exception e)
        {
            _client.ReturnWriter(head);
            FailFast(e);
            return;
        }

        HeadSent();
    }

    private async Task WriteThenContinueAsync(ValueTask write, PooledByteBuffer head)
    {
        try
        {
            await write;
        }
        catch (Exception e)
        {
            FailFast(e);
            return;
        }
        finally
        {
            _client.ReturnWriter(head);
        }

        HeadSent();
    }

    private void HeadSent()
    {
        _fastConnection!.HeadSent(_request.Method);
        _fastHeadSent = true;
        StartPhase(_client.Timeouts.ResponseHeaders, LoopHttpErrorKind.ResponseHeadersTimeout);
        ContinueFast();
    }

    /// <summary>Parses what came; reads more until the response head is in. Completing is the last thing it does.</summary>
    private void ContinueFast()
    {
        var connection = _fastConnection!;
        LoopHttpResponse response;
        try
        {
            while (!connection.TryReadFinalHead(_request.Uri))
            {
                var read = connection.ReceiveAsync();
                if (!read.IsCompleted)
                {
                    // Without the context: the read completes on the loop (its own continuation runs from the ready
                    // queue), and carrying on right there saves a post — and the object a post would allocate.
                    // OnReceived checks the thread, in case a transport ever completes elsewhere.
                    _pendingRead = read.ConfigureAwait(false).GetAwaiter();
                    _pendingRead.UnsafeOnCompleted(_onReceived);
                    return;
                }

                connection.Received(read.GetAwaiter().GetResult());
            }

            EndPhase();
            response = new LoopHttpResponse(connection, _request.Uri, _request.Method, this, _client.Options.AutomaticDecompression, 0);
        }
        catch (Exception e)
        {
            FailFast(e);
            return;
        }

        _fastConnection = null;
        if (_client.Options.MaxRedirects > 0 && response.StatusCode is >= 300 and < 400)
        {
            _ = RunGeneralAsync(_request, 0, response);
            return;
        }

        Complete(response, null);
    }

    private void OnReceived()
    {
        if (!_client.Loop.IsLoopThread)
        {
            _client.Loop.Post(static s => ((Exchange)s!).OnReceived(), this);
            return;
        }

        var read = _pendingRead;
        _pendingRead = default;
        try
        {
            _fastConnection!.Received(read.GetResult());
        }
        catch (Exception e)
        {
            FailFast(e);
            return;
        }

        ContinueFast();
    }

    private void FailFast(Exception e)
    {
        var connection = _fastConnection!;
        _fastConnection = null;
        Connection = null;
        var failure = connection.FailedExclusive(e, _fastHeadSent, _fastReused, this);
        if (failure is StaleConnectionException && _request.IsIdempotent)
        {
            // The server closed the kept-alive connection as we used it: the general path sends again.
            _ = RunGeneralAsync(_request, 0, null);
            return;
        }

        Fail(failure, _request.Uri);
    }

    /// <summary>
    /// The general path, from <paramref name="current"/> (the <paramref name="redirects"/>-th request of the call), or
    /// from a <paramref name="response"/> the fast path already has, when that is a redirect to follow. Never throws:
    /// it completes the exchange.
    /// </summary>
    private async Task RunGeneralAsync(LoopHttpRequest current, int redirects, LoopHttpResponse? response)
    {
        try
        {
            for (; ; redirects++)
            {
                response ??= await _client.SendOnceAsync(current, this, redirects);
                var next = _client.Options.MaxRedirects > 0 && response.StatusCode is >= 300 and < 400 ? Redirects.Next(current, response) : null;
                if (next is null)
                {
                    break;
                }

                response.ReleaseForRedirect();
                response = null;
                if (redirects == _client.Options.MaxRedirects)
                {
                    throw new LoopHttpException(LoopHttpErrorKind.TooManyRedirects, _request.Uri, $"more than {_client.Options.MaxRedirects} redirects (the last one to {next.Uri})");
                }

                current = next;
            }
        }
        catch (Exception e)
        {
            Fail(e is StaleConnectionException { InnerException: { } cause } ? cause : e, current.Uri);
            return;
        }

        Complete(response, null);
    }

    private void Fail(Exception e, Uri uri)
    {
        var translated = Translate(e, uri);
        _finishOnResult = true; // the exchange is over once the caller has seen the error
        Complete(null, ReferenceEquals(translated, e) ? ExceptionDispatchInfo.Capture(e) : ExceptionDispatchInfo.Capture(translated));
    }

    /// <summary>Completes the value task; may run the caller's continuation inline, so nothing may touch this exchange afterwards.</summary>
    private void Complete(LoopHttpResponse? response, ExceptionDispatchInfo? failure)
    {
        _result = response;
        _error = failure;
        _completed = true;
        var next = _continuation;
        if (next is null)
        {
            return; // not awaited yet: OnCompleted will see it is done
        }

        _continuation = null;
        Invoke(next, _continuationState, _capturedContext, _capturedExecution);
    }

    private static void Invoke(Action<object?> next, object? state, object? context, ExecutionContext? execution)
    {
        switch (context)
        {
            case SynchronizationContext sc when !ReferenceEquals(SynchronizationContext.Current, sc):
                sc.Post(static s => { var (next, state, execution) = ((Action<object?>, object?, ExecutionContext?))s!; Run(next, state, execution); }, (next, state, execution));
                break;
            case TaskScheduler scheduler:
                Task.Factory.StartNew(static s => { var (next, state, execution) = ((Action<object?>, object?, ExecutionContext?))s!; Run(next, state, execution); }, (next, state, execution), CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler);
                break;
            default:
                Run(next, state, execution);
                break;
        }
    }

    private static void Run(Action<object?> next, object? state, ExecutionContext? execution)
    {
        if (execution is null)
        {
            next(state);
        }
        else
        {
            ExecutionContext.Run(execution, static s => { var (next, state) = ((Action<object?>, object?))s!; next(state); }, (next, state));
        }
    }

    ValueTaskSourceStatus IValueTaskSource<LoopHttpResponse>.GetStatus(short token)
    {
        CheckVersion(token);
        return !_completed ? ValueTaskSourceStatus.Pending
            : _error is null ? ValueTaskSourceStatus.Succeeded
            : _error.SourceException is OperationCanceledException ? ValueTaskSourceStatus.Canceled
            : ValueTaskSourceStatus.Faulted;
    }

    LoopHttpResponse IValueTaskSource<LoopHttpResponse>.GetResult(short token)
    {
        CheckVersion(token);
        if (!_completed)
        {
            throw new InvalidOperationException("The request has not completed yet; await it.");
        }

        var response = _result;
        var failure = _error;
        _result = null;
        _error = null;
        _version++; // a second GetResult is an error, as for any ValueTask
        if (_finishOnResult)
        {
            _finishOnResult = false;
            Finish();
        }

        failure?.Throw();
        return response!;
    }

    void IValueTaskSource<LoopHttpResponse>.OnCompleted(Action<object?> next, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        CheckVersion(token);
        object? context = null;
        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0)
        {
            if (SynchronizationContext.Current is { } sc && sc.GetType() != typeof(SynchronizationContext))
            {
                context = sc;
            }
            else if (TaskScheduler.Current != TaskScheduler.Default)
            {
                context = TaskScheduler.Current;
            }
        }

        var execution = (flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 ? ExecutionContext.Capture() : null;
        if (_completed)
        {
            Invoke(next, state, context, execution);
            return;
        }

        _continuation = next;
        _continuationState = state;
        _capturedContext = context;
        _capturedExecution = execution;
    }

    private void CheckVersion(short token)
    {
        if (token != _version)
        {
            throw new InvalidOperationException("This ValueTask was already awaited (or its result taken); a ValueTask is awaited once.");
        }
    }

    /// <summary>The exchange is over (its response disposed, or it failed and the caller saw it): stops its countdowns and makes it reusable.</summary>
    public void Finish()
    {
        _whole.Queue?.Remove(_whole);
        EndPhase();
        _callerRegistration.Dispose();
        _callerRegistration = default;
        _callerToken = default;
        Connection = null;
        if (_slow is not null)
        {
            _slow.Dispose();
            _slow = null;
        }

        _generation++;
        Fired = null;
        Canceled = false;
        _request = null!;
        _completed = false;
        _continuationState = null;
        _capturedContext = null;
        _capturedExecution = null;
        _client.ReturnExchange(this);
    }

    private void Cancel(int expectedGeneration, CancellationToken token)
    {
        if (expectedGeneration != _generation || Ended)
        {
            return;
        }

        Canceled = true;
        _callerToken = token;
        End();
    }

    private void End()
    {
        _whole.Queue?.Remove(_whole);
        EndPhase();
        _slow?.Cancel();
        Connection?.Abort();
    }
}
