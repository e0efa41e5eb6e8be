using System.Runtime.ExceptionServices;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Proxy;

/// <summary>
/// A reverse proxy as a server handler: forwards each request to one of <see cref="ProxyOptions.Upstreams"/> and relays
/// the response, bodies streamed both ways (never held whole), over kept-alive upstream connections of this loop.
/// </summary>
/// <remarks>
/// <para>
/// A handler belongs to the loop it was made on (its pool, deadlines and health are that loop's, with no locks). Give
/// each loop of a server its own with <see cref="PerLoop"/>: <c>new HttpServer(ProxyHandler.PerLoop(options), serverOptions)</c>.
/// </para>
/// <para>
/// Failures answer 502 (refused, reset, an invalid response) or 504 (a connect, response head or body timeout) with a
/// one-line body saying which. A request that failed before any byte of a response is sent to another upstream when it
/// is idempotent and has no body (it can be sent again as it was), up to <see cref="ProxyOptions.MaxAttempts"/>; a
/// kept-alive connection that turns out closed is replaced at once for any request whose body has not been sent. Once
/// the response has started, a failure cuts the client's connection: the client sees a short body, never a wrong one.
/// </para>
/// <para>
/// <c>Upgrade</c>, as nginx does it: a bodiless HTTP/1.1 request with <c>Connection: upgrade</c> is forwarded with its
/// <c>Upgrade</c> field on a connection of its own, whatever the protocol (<c>websocket</c>, <c>h2c</c>...); a 101 from
/// the upstream goes to the client and the two connections become a byte tunnel until both sides close or it idles
/// for <see cref="ProxyOptions.TunnelIdleTimeout"/>; any other answer is relayed as a normal response. An upgrade
/// offer on a request with a body (or HTTP/1.0) loses its hop-by-hop fields and goes as a plain request, which RFC
/// 9110 7.8 allows.
/// </para>
/// </remarks>
public sealed partial class ProxyHandler : IAsyncDisposable
{
    private readonly EventLoop _loop;
    private readonly ProxyOptions _options;
    private readonly UpstreamSet _upstreams;
    private readonly ForwardingBytes _bytes;
    private readonly ClientAddressText _clientAddress = new();
    private readonly SocketStreamOptions _socketOptions;
    private readonly DeadlineQueue _headDeadlines;
    private readonly DeadlineQueue _bodyDeadlines;
    private readonly DeadlineQueue _idleDeadlines;
    private readonly DeadlineQueue _tunnelDeadlines;
    private readonly long _quarantineTicks;
    private readonly LoopTask? _probe;
    private bool _disposed;

    /// <summary>Creates a proxy handler on the current loop.</summary>
    /// <param name="options">Upstreams, balancing, timeouts, forwarding fields.</param>
    /// <exception cref="InvalidOperationException">No loop runs on this thread.</exception>
    /// <exception cref="ArgumentException"><see cref="ProxyOptions.ViaName"/> or <see cref="ProxyOptions.ClientScheme"/> cannot be sent in a field value.</exception>
    public ProxyHandler(ProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _loop = EventLoop.Current;
        _options = options;
        _upstreams = new UpstreamSet(options.Upstreams, options.Balancing);
        _bytes = new ForwardingBytes(options);
        _socketOptions = new SocketStreamOptions { NoDelay = true, ConnectTimeout = options.ConnectTimeout };
        _headDeadlines = new DeadlineQueue(_loop, options.ResponseHeadTimeout);
        _bodyDeadlines = new DeadlineQueue(_loop, options.BodyTimeout);
        _idleDeadlines = new DeadlineQueue(_loop, options.IdleConnectionTimeout);
        _tunnelDeadlines = new DeadlineQueue(_loop, options.TunnelIdleTimeout);
        _quarantineTicks = (long)(options.FailureQuarantine.TotalSeconds * _loop.Time.TimestampFrequency);
        if (options.HealthProbePath is { } path) _probe = _loop.Spawn(token => ProbeLoopAsync(path, token), "proxy health probe");
    }

    /// <summary>The options.</summary>
    public ProxyOptions Options => _options;

    /// <summary>A factory for <see cref="HttpServer(Func{EventLoop, RequestHandler}, HttpServerOptions?)"/>: each loop gets its own handler, disposed with the loop.</summary>
    /// <param name="options">The options every loop's handler shares.</param>
    /// <returns>The factory.</returns>
    public static Func<EventLoop, RequestHandler> PerLoop(ProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return _ => new ProxyHandler(options).HandleAsync;
    }

    /// <summary>Forwards one request and relays its response. Use it as the server's <see cref="RequestHandler"/>.</summary>
    /// <param name="request">The client's request.</param>
    /// <param name="response">Where the upstream's response goes.</param>
    /// <returns>Completes when the response is relayed.</returns>
    /// <exception cref="InvalidOperationException">Called on another loop than the handler's.</exception>
    public ValueTask HandleAsync(ServerRequest request, ServerResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        if (!_loop.IsLoopThread)
        {
            return ValueTask.FromException(new InvalidOperationException("This ProxyHandler belongs to another loop: its upstream connections and deadlines are that loop's. "
                + "Give each loop its own, e.g. new HttpServer(ProxyHandler.PerLoop(options), serverOptions)."));
        }
        if (_disposed) return ValueTask.FromException(new ObjectDisposedException(nameof(ProxyHandler)));
        return ForwardAsync(request, response, AsksToUpgrade(request));
    }

    /// <summary>
    /// What to do after a failed attempt: true to try another upstream (the request can be sent again as it was); false
    /// once the client was answered 502 or 504. Rethrows when the response had started: the server cuts the connection.
    /// </summary>
    private bool RetryAfter(UpstreamException e, Upstream upstream, ServerResponse response, bool resendable, int attempts)
    {
        if (e.Kind is not (UpstreamFailureKind.BodyFailed or UpstreamFailureKind.BodyTimedOut) || !e.ResponseStarted)
            upstream.Failed(_options.MaxFailures, Now + _quarantineTicks);
        if (!e.ResponseStarted && resendable && attempts < _options.MaxAttempts) return true;
        // After the upstream's head was relayed the server cuts the connection: a short body, never a wrong one.
        if (response.HasStarted) ExceptionDispatchInfo.Throw(e);
        Answer(response, e.StatusCode, $"meanwhile proxy: {e.Reason}\n");
        return false;
    }

    /// <summary>Closes the idle upstream connections and stops the probe. Call on the handler's loop (the server does, for <see cref="PerLoop"/> handlers).</summary>
    /// <returns>Completes once the probe has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        _upstreams.CloseIdle();
        if (_probe is { } probe)
        {
            probe.Cancel();
            try { await probe; }
            catch (OperationCanceledException) { }
        }
    }

    private long Now => _loop.Time.GetTimestamp();

    private static void Answer(ServerResponse response, int status, string body)
    {
        response.StatusCode = status;
        response.AddHeader("Content-Type"u8, "text/plain; charset=utf-8"u8);
        response.Write(Encoding.UTF8.GetBytes(body));
    }

    // RFC 9110 9.2.2.
    private static bool IsIdempotent(ReadOnlySpan<byte> method) =>
        method.SequenceEqual("GET"u8) || method.SequenceEqual("HEAD"u8) || method.SequenceEqual("OPTIONS"u8)
        || method.SequenceEqual("TRACE"u8) || method.SequenceEqual("PUT"u8) || method.SequenceEqual("DELETE"u8);
}
