using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile.Http.Client;

/// <summary>
/// The life of one call to <see cref="LoopHttpClient.SendAsync"/>, redirects included, until its response is
/// disposed: its timeouts, the caller's cancellation, the connection it is using, and the value task the caller awaits.
/// Pooled (<see cref="ExchangePool"/>): a warm exchange costs no allocation.
/// </summary>
/// <remarks>
/// <para>
/// Timeouts are entries in the client's <see cref="DeadlineQueue"/>s (one per configured timeout), not timers. When one
/// expires, or the caller's token fires, the exchange ends: the connection it uses is closed (its pending read or write
/// ends at once, as the server ends a connection whose deadline passed), and the waits that are not on a connection (a
/// free connection, a connect, a TLS handshake, a turn, <c>100 Continue</c>) see <see cref="WaitToken"/> cancelled. That
/// token's source is made only when such a wait happens, so a request on a kept-alive connection makes none. Whatever
/// the layers below then throw, <see cref="Translate"/> reports what really happened.
/// </para>
/// <para>
/// Both paths send through the exchange's <see cref="RoundTrip"/>. The fast path — a request without a body when the
/// origin has an idle connection or a free slot — takes the connection at once and completes the caller's value task
/// from the round trip's continuation: no async method, no task. Everything else (waiting for a connection, pipelining,
/// bodies, redirects, a retry after a stale connection) is the general path, <see cref="RunGeneralAsync"/>, an
/// ordinary async method around the same round trip.
/// </para>
/// <para>Loop thread only; a caller's token cancelled on another thread is posted to the loop.</para>
/// </remarks>
internal sealed partial class Exchange : DeadlineQueue.Entry, IValueTaskSource<LoopHttpResponse>, IExchangeWaits
{
    private readonly ClientContext _context;
    private readonly Origins _origins;
    private readonly ExchangePool _pool;
    private readonly Countdown _phase;
    private readonly RoundTrip _roundTrip;
    private readonly Action _onConnected;
    private LoopValueTaskSourceCore<LoopHttpResponse> _result;
    private bool _finishOnResult;
    private CancellationTokenSource? _waits;
    private CancellationTokenRegistration _callerRegistration;
    private CancellationToken _callerToken;
    private int _generation;

    // The fast path's state.
    private LoopHttpRequest _request = null!;
    private OriginPool? _fastPool;
    private byte[] _fastTarget = [];
    private TaskAwaiter<ClientConnection> _connecting; // https: the connection, TLS included
    private TaskAwaiter<SocketStream> _connectingPlain; // http: the socket itself (ClientConnection.StartConnect)

    public Exchange(ClientContext context, Origins origins, ExchangePool pool)
    {
        _context = context;
        _origins = origins;
        _pool = pool;
        _phase = new Countdown(this);
        _roundTrip = new RoundTrip(this, context, pool);
        _result = new LoopValueTaskSourceCore<LoopHttpResponse>(context.Loop);
        _onConnected = OnConnected;
    }

    /// <summary>Which timeout ended the exchange, if one did.</summary>
    public LoopHttpErrorKind? Fired { get; private set; }

    /// <summary>True once the caller's token ended the exchange.</summary>
    public bool Canceled { get; private set; }

    /// <summary>True once a timeout or the caller ended the exchange: everything it still waits for fails.</summary>
    public bool Ended => Fired is not null || Canceled;

    /// <summary>The connection this exchange is using (from acquiring it until its response is released), closed if it ends.</summary>
    public ClientConnection? Connection { get; set; }

    /// <summary>The request's trace span while someone listens to <see cref="ClientActivities"/>; null otherwise.</summary>
    public System.Diagnostics.Activity? Activity { get; private set; }

    /// <summary>Sends <paramref name="request"/>: the whole-request timeout runs from now and <paramref name="token"/> can end it.</summary>
    public ValueTask<LoopHttpResponse> Send(LoopHttpRequest request, CancellationToken token)
    {
        ClientMetrics.Requests.Add(1);
        Activity = ClientActivities.Start(request);
        _context.RequestTimeout?.Start(this);
        _callerToken = token;
        if (token.CanBeCanceled)
        {
            _callerRegistration = Link(token);
        }

        _request = request;
        var pool = _origins.PoolFor(request.Uri, out byte[] target);
        if (request.Body is null && !request.ExpectContinue && pool.TryTakeIdle() is { } connection)
        {
            StartFast(connection, pool, target);
        }
        else if (request.Body is null && !request.ExpectContinue && pool.TryTakeSlot())
        {
            // A new connection: open it (one async method), then carry on as on a kept-alive one.
            _fastPool = pool;
            _fastTarget = target;
            if (pool.IsHttps)
            {
                _connecting = OpenAsync(pool).GetAwaiter();
                if (_connecting.IsCompleted)
                {
                    OnConnected();
                }
                else
                {
                    _connecting.UnsafeOnCompleted(_onConnected);
                }
            }
            else
            {
                _connectingPlain = ClientConnection.StartConnect(pool, this).GetAwaiter();
                if (_connectingPlain.IsCompleted)
                {
                    OnConnected();
                }
                else
                {
                    _connectingPlain.UnsafeOnCompleted(_onConnected);
                }
            }
        }
        else
        {
            _ = RunGeneralAsync(request, 0);
        }

        return new ValueTask<LoopHttpResponse>(this, _result.Version);
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

    /// <summary>Opens a connection for the pool slot the caller was given, under the connect timeout.</summary>
    private Task<ClientConnection> OpenAsync(OriginPool pool) => ClientConnection.OpenAsync(pool, this);

    private void OnConnected()
    {
        var opening = _connecting;
        var openingPlain = _connectingPlain;
        _connecting = default;
        _connectingPlain = default;
        var (pool, target) = (_fastPool!, _fastTarget);
        _fastPool = null;
        _fastTarget = [];
        ClientConnection connection;
        try
        {
            // A failure has already given the slot back.
            connection = pool.IsHttps ? opening.GetResult() : ClientConnection.FinishPlainOpen(pool, this, openingPlain);
        }
        catch (Exception e)
        {
            Fail(e, _request.Uri);
            return;
        }

        StartFast(connection, pool, target);
    }

    /// <summary>The fast path: the round trip on a connection taken at once; it calls <see cref="RoundTripEnded"/>.</summary>
    private void StartFast(ClientConnection connection, OriginPool pool, byte[] target)
    {
        Connection = connection;
        _roundTrip.Start(connection, _request, pool, target);
    }

    /// <summary>The fast path's round trip is over (<paramref name="failure"/> null: the response head is in); completes the caller's value task.</summary>
    public void RoundTripEnded(Exception? failure)
    {
        if (failure is not null)
        {
            Connection = null;
            if (failure is StaleConnectionException && _request.IsIdempotent)
            {
                // The server closed the kept-alive connection as we used it: the general path sends again.
                _ = RunGeneralAsync(_request, 0);
                return;
            }

            Fail(failure, _request.Uri);
            return;
        }

        var response = new LoopHttpResponse(Connection!, _request.Uri, _request.Method, this, _context.Options.AutomaticDecompression, 0);

        if (_context.Options.MaxRedirects > 0 && response.StatusCode is >= 300 and < 400)
        {
            _ = RunGeneralAsync(_request, 0, response);
            return;
        }

        Succeed(response);
    }

    /// <summary>
    /// The general path, from <paramref name="current"/> (the <paramref name="redirects"/>-th request of the call), or
    /// from a <paramref name="response"/> the fast path already has, when that is a redirect to follow. Never throws:
    /// it completes the exchange.
    /// </summary>
    private async Task RunGeneralAsync(LoopHttpRequest current, int redirects, LoopHttpResponse? response = null)
    {
        try
        {
            for (; ; redirects++)
            {
                response ??= await SendOnceAsync(current, redirects);
                var next = _context.Options.MaxRedirects > 0 && response.StatusCode is >= 300 and < 400 ? Redirects.Next(current, response) : null;
                if (next is null)
                {
                    break;
                }

                response.ReleaseForRedirect();
                response = null;
                if (redirects == _context.Options.MaxRedirects)
                {
                    throw new LoopHttpException(LoopHttpErrorKind.TooManyRedirects, _request.Uri, $"more than {_context.Options.MaxRedirects} redirects (the last one to {next.Uri})");
                }

                current = next;
            }
        }
        catch (Exception e)
        {
            Fail(e is StaleConnectionException { InnerException: { } cause } ? cause : e, current.Uri);
            return;
        }

        Succeed(response);
    }

    /// <summary>One request of the general path (no redirect): a connection from the pool or a new one, then the round trip; retries on stale connections.</summary>
    private async Task<LoopHttpResponse> SendOnceAsync(LoopHttpRequest request, int redirects)
    {
        var pool = _origins.PoolFor(request.Uri, out byte[] target);
        bool pipelinable = request.Body is null && request.IsIdempotent && !request.ExpectContinue;
        for (int attempt = 1; ; attempt++)
        {
            var connection = await pool.AcquireAsync(pipelinable, this) ?? await OpenAsync(pool);
            Connection = connection;
            try
            {
                await _roundTrip.RunAsync(connection, request, pool, target);
                return new LoopHttpResponse(connection, request.Uri, request.Method, this, _context.Options.AutomaticDecompression, redirects);
            }
            catch (StaleConnectionException) when (attempt < 3 && request.IsIdempotent && (request.Body?.IsReplayable ?? true))
            {
                // The server closed a kept-alive connection as we used it: send again (RFC 9112 9.3.1 allows it for idempotent requests).
                Connection = null;
                request.Body?.Rewind();
            }
        }
    }

    private void Succeed(LoopHttpResponse response)
    {
        if (Activity is { } activity)
        {
            Activity = null;
            ClientActivities.Stop(activity, response.StatusCode, null);
        }

        _result.SetResult(response);
    }

    private void Fail(Exception e, Uri uri)
    {
        _finishOnResult = true; // the exchange is over once the caller has seen the error
        var error = Translate(e, uri);
        ClientMetrics.Failures.Add(1);
        if (Activity is { } activity)
        {
            Activity = null;
            ClientActivities.Stop(activity, 0, error);
        }

        _result.SetException(error);
    }

    ValueTaskSourceStatus IValueTaskSource<LoopHttpResponse>.GetStatus(short token) => _result.GetStatus(token);

    LoopHttpResponse IValueTaskSource<LoopHttpResponse>.GetResult(short token)
    {
        try
        {
            return _result.GetResult(token);
        }
        finally
        {
            if (_finishOnResult)
            {
                _finishOnResult = false;
                Finish();
            }
        }
    }

    void IValueTaskSource<LoopHttpResponse>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _result.OnCompleted(continuation, state, token, flags);

    /// <summary>The exchange is over (its response disposed, or it failed and the caller saw it): stops its countdowns and makes it reusable.</summary>
    public void Finish()
    {
        Stop(); // the whole request's deadline
        _phase.Stop();
        _callerRegistration.Dispose();
        _callerRegistration = default;
        _callerToken = default;
        Connection = null;
        if (_waits is not null)
        {
            _waits.Dispose();
            _waits = null;
        }

        _generation++;
        Fired = null;
        Canceled = false;
        _request = null!;
        _result.Reset(); // a stale token of the caller's value task now fails
        _pool.Return(this);
    }
}
