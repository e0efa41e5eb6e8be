using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Meanwhile.Http;

namespace Meanwhile.Http.Client;

/// <summary>
/// The browser side of the seed's example: an HTTP/1.1 client that runs on one Meanwhile <see cref="EventLoop"/>.
/// While one request waits for its server, the loop sends and reads the others.
/// </summary>
/// <remarks>
/// <para>
/// Named <c>LoopHttpClient</c> so a file can import both <c>System.Net.Http</c> and this namespace: the prefix says
/// what sets it apart, that it lives on a loop. Its companions follow suit (<see cref="LoopHttpRequest"/>,
/// <see cref="LoopHttpResponse"/>, <see cref="LoopHttpException"/>).
/// </para>
/// <para>
/// Create it on the loop thread and use it there; it is not thread-safe, by design (one loop, no locks). It keeps
/// a pool of connections per origin (scheme, host, port), reuses them while the server keeps them alive, and queues
/// requests once <see cref="LoopHttpClientOptions.MaxConnectionsPerOrigin"/> are busy.
/// </para>
/// </remarks>
public sealed class LoopHttpClient : IAsyncDisposable
{
    private readonly Dictionary<string, OriginPool> _pools = new(StringComparer.Ordinal);
    private readonly Stack<PooledByteBuffer> _writers = new();
    private readonly Stack<Exchange> _exchanges = new();
    private readonly List<Task> _closing = [];
    private readonly Queue<Exchange> _sends = new();
    private readonly Action _sendQueued;
    private bool _sendScheduled;
    private int _exchangesOut; // calls of SendAsync whose response is not disposed yet
    private Uri? _lastUri;
    private OriginPool? _lastPool;
    private byte[] _lastTarget = [];
    private bool _disposed;

    /// <summary>Creates a client on the current loop.</summary>
    /// <param name="options">How to connect, pool, time out and redirect; null for <see cref="LoopHttpClientOptions.Default"/>.</param>
    /// <exception cref="InvalidOperationException">No loop runs on this thread.</exception>
    public LoopHttpClient(LoopHttpClientOptions? options = null)
    {
        Loop = EventLoop.Current;
        Options = options ?? LoopHttpClientOptions.Default;
        Timeouts = new ClientTimeouts(Loop, Options);
        _sendQueued = SendQueued;
    }

    /// <summary>The loop this client runs on.</summary>
    public EventLoop Loop { get; }

    /// <summary>The options it was created with.</summary>
    public LoopHttpClientOptions Options { get; }

    /// <summary>Connections open (or being opened) to the origin of <paramref name="uri"/>.</summary>
    /// <param name="uri">Any URI of the origin.</param>
    /// <returns>The count; 0 for an origin never contacted.</returns>
    public int OpenConnections(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return _pools.TryGetValue(OriginKey(uri), out var pool) ? pool.OpenCount : 0;
    }

    /// <summary>
    /// Sends <paramref name="request"/> and returns once the response head has arrived, following redirects.
    /// Read the body from <see cref="LoopHttpResponse.Content"/>, then dispose the response.
    /// </summary>
    /// <remarks>
    /// A <see cref="ValueTask{TResult}"/>, as <see cref="Stream.ReadAsync(Memory{byte}, CancellationToken)"/> returns:
    /// a request on a kept-alive connection allocates nothing but its response. Await it once; call
    /// <see cref="ValueTask{TResult}.AsTask"/> to combine it with <see cref="Task.WhenAll(Task[])"/> and the like.
    /// </remarks>
    /// <param name="request">What to send.</param>
    /// <param name="cancellationToken">Abandons the request (from any thread); the exchange's connection is closed.</param>
    /// <returns>The response.</returns>
    /// <exception cref="LoopHttpException">The request failed; its <see cref="LoopHttpException.Kind"/> says how.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread than the client's loop.</exception>
    public ValueTask<LoopHttpResponse> SendAsync(LoopHttpRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Loop.IsLoopThread)
        {
            throw new InvalidOperationException("A LoopHttpClient is used from the thread of the loop it was created on.");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LoopHttpResponse>(cancellationToken);
        }

        var exchange = _exchanges.TryPop(out var reused) ? reused : new Exchange(this);
        _exchangesOut++;
        exchange.Start(Timeouts.Request, cancellationToken);
        return exchange.Send(request);
    }

    /// <summary>The timeouts of <see cref="Options"/>, as queues of exchanges (null where no timeout is set).</summary>
    internal ClientTimeouts Timeouts { get; }

    internal void ReturnExchange(Exchange exchange)
    {
        _exchangesOut--;
        _exchanges.Push(exchange);
    }
    /// <summary>Sends a GET request.</summary>
    /// <param name="uri">An absolute http or https URI.</param>
    /// <param name="cancellationToken">Abandons the request.</param>
    /// <returns>The response; dispose it.</returns>
    public ValueTask<LoopHttpResponse> GetAsync(Uri uri, CancellationToken cancellationToken = default) =>
        SendAsync(new LoopHttpRequest("GET", uri), cancellationToken);

    /// <summary>Sends a GET request.</summary>
    /// <param name="uri">An absolute http or https URI.</param>
    /// <param name="cancellationToken">Abandons the request.</param>
    /// <returns>The response; dispose it.</returns>
    public ValueTask<LoopHttpResponse> GetAsync(string uri, CancellationToken cancellationToken = default) =>
        SendAsync(new LoopHttpRequest("GET", uri), cancellationToken);

    /// <summary>GETs <paramref name="uri"/> and reads the whole (decoded) body, whatever the status.</summary>
    /// <param name="uri">An absolute http or https URI.</param>
    /// <param name="cancellationToken">Abandons the request.</param>
    /// <returns>The body.</returns>
    public async Task<byte[]> GetBytesAsync(Uri uri, CancellationToken cancellationToken = default)
    {
        using var response = await GetAsync(uri, cancellationToken);
        return await response.ReadAsBytesAsync(cancellationToken);
    }

    /// <summary>GETs <paramref name="uri"/> and reads the whole (decoded) body as UTF-8 text, whatever the status.</summary>
    /// <param name="uri">An absolute http or https URI.</param>
    /// <param name="cancellationToken">Abandons the request.</param>
    /// <returns>The body text.</returns>
    public async Task<string> GetStringAsync(Uri uri, CancellationToken cancellationToken = default)
    {
        using var response = await GetAsync(uri, cancellationToken);
        return await response.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>GETs <paramref name="uri"/> and reads the whole (decoded) body, whatever the status.</summary>
    /// <param name="uri">An absolute http or https URI.</param>
    /// <param name="cancellationToken">Abandons the request.</param>
    /// <returns>The body.</returns>
    public Task<byte[]> GetBytesAsync(string uri, CancellationToken cancellationToken = default) =>
        GetBytesAsync(new Uri(uri, UriKind.Absolute), cancellationToken);

    /// <summary>GETs <paramref name="uri"/> and reads the whole (decoded) body as UTF-8 text, whatever the status.</summary>
    /// <param name="uri">An absolute http or https URI.</param>
    /// <param name="cancellationToken">Abandons the request.</param>
    /// <returns>The body text.</returns>
    public Task<string> GetStringAsync(string uri, CancellationToken cancellationToken = default) =>
        GetStringAsync(new Uri(uri, UriKind.Absolute), cancellationToken);

    /// <summary>
    /// GETs every URI of <paramref name="uris"/>, at most <paramref name="maxConcurrency"/> at a time, and yields each
    /// result as soon as it is complete (not in the order given). A failed fetch is a result with its error, not an exception.
    /// </summary>
    /// <param name="uris">What to fetch; enumerated lazily as slots free up.</param>
    /// <param name="maxConcurrency">Most fetches in progress at once.</param>
    /// <param name="cancellationToken">Stops everything; fetches in progress are abandoned.</param>
    /// <returns>The results, as they complete.</returns>
    public async IAsyncEnumerable<FetchResult> FetchAllAsync(IEnumerable<Uri> uris, int maxConcurrency, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uris);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxConcurrency);
        var results = Channel.CreateUnbounded<FetchResult>(new UnboundedChannelOptions { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var source = uris.GetEnumerator();
        int running = maxConcurrency;

        async Task Fetcher()
        {
            try
            {
                while (!stop.IsCancellationRequested && source.MoveNext())
                {
                    var uri = source.Current;
                    FetchResult result;
                    try
                    {
                        using var response = await GetAsync(uri, stop.Token);
                        result = new FetchResult(uri, response.StatusCode, await response.ReadAsBytesAsync(stop.Token), null);
                    }
                    catch (Exception e) when (!stop.IsCancellationRequested)
                    {
                        result = new FetchResult(uri, 0, null, e);
                    }

                    results.Writer.TryWrite(result);
                }
            }
            finally
            {
                if (--running == 0)
                {
                    results.Writer.TryComplete();
                }
            }
        }

        var fetchers = new Task[maxConcurrency];
        for (int i = 0; i < fetchers.Length; i++)
        {
            fetchers[i] = Fetcher();
        }

        try
        {
            await foreach (var result in results.Reader.ReadAllAsync(cancellationToken))
            {
                yield return result;
            }
        }
        finally
        {
            stop.Cancel();
            try
            {
                await Task.WhenAll(fetchers);
            }
            catch (OperationCanceledException)
            {
                // the fetches abandoned by stopping
            }
        }
    }

    /// <summary>Closes idle connections and waits until every connection closed so far is really gone. Responses still held keep theirs until disposed.</summary>
    /// <returns>Completes when the sockets are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var pool in _pools.Values)
        {
            pool.CloseIdle();
        }

        await Task.WhenAll(_closing);
        _closing.Clear();
    }

    /// <summary>Keeps a connection's close so <see cref="DisposeAsync"/> can wait for it.</summary>
    internal void TrackClose(Task close)
    {
        if (close.IsCompleted)
        {
            return;
        }

        if (_closing.Count >= 64)
        {
            _closing.RemoveAll(static t => t.IsCompleted);
        }

        _closing.Add(close);
    }

    /// <summary>The general path of one request (no redirect): a connection from the pool or a new one, pipelining, bodies, 100-continue, retries on stale connections.</summary>
    internal async Task<LoopHttpResponse> SendOnceAsync(LoopHttpRequest request, Exchange exchange, int redirects)
    {
        var pool = PoolFor(request.Uri, out byte[] target);
        var head = RentWriter();
        try
        {
            bool bodyInHead = WriteHead(head, request, pool, target);
            bool pipelinable = request.Body is null && request.IsIdempotent && !request.ExpectContinue;
            for (int attempt = 1; ; attempt++)
            {
                var connection = await pool.AcquireAsync(pipelinable, exchange) ?? await OpenAsync(pool, exchange);
                exchange.Connection = connection;
                try
                {
                    await connection.ExchangeAsync(request, head, bodyInHead, exchange, Options);
                    return new LoopHttpResponse(connection, request.Uri, request.Method, exchange, Options.AutomaticDecompression, redirects);
                }
                catch (StaleConnectionException) when (attempt < 3 && request.IsIdempotent && (request.Body?.IsReplayable ?? true))
                {
                    // The server closed a kept-alive connection as we used it: send again (RFC 9112 9.3.1 allows it for idempotent requests).
                    exchange.Connection = null;
                    request.Body?.Rewind();
                    head.Release();
                    bodyInHead = WriteHead(head, request, pool, target);
                }
            }
        }
        finally
        {
            ReturnWriter(head);
        }
    }

    /// <summary>
    /// Sends <paramref name="exchange"/>'s request now when it is the only one, else at the loop's next turn with every
    /// other request of this turn: the answers a poll brought are all read before the next requests go out, as wrk
    /// does. Sent one by one, each request woke the server for itself; sent together, the server takes them in one
    /// wake-up (fewer of its epoll_waits per request). Alone, the extra turn would only add latency.
    /// </summary>
    internal void QueueSend(Exchange exchange)
    {
        if (_exchangesOut <= 1 && !_sendScheduled)
        {
            exchange.SendQueuedHead();
            return;
        }

        _sends.Enqueue(exchange);
        if (!_sendScheduled)
        {
            _sendScheduled = true;
            Loop.CallSoon(_sendQueued);
        }
    }

    private void SendQueued()
    {
        var context = SynchronizationContext.Current;
        try
        {
            // A caller resumed by a failure here may queue another request: it goes out in this round too.
            while (_sends.TryDequeue(out var exchange))
            {
                SynchronizationContext.SetSynchronizationContext(exchange.QueuedContext);
                exchange.SendQueuedHead();
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
            _sendScheduled = false;
            if (_sends.Count > 0)
            {
                _sendScheduled = true;
                Loop.CallSoon(_sendQueued);
            }
        }
    }

    internal PooledByteBuffer RentWriter() => _writers.TryPop(out var pooled) ? pooled : new PooledByteBuffer(1024);

    internal void ReturnWriter(PooledByteBuffer writer)
    {
        writer.Release();
        _writers.Push(writer);
    }

    /// <summary>Opens a connection (and its TLS session for https) to <paramref name="pool"/>'s origin, in the slot the caller was given.</summary>
    internal async Task<HttpConnection> OpenAsync(OriginPool pool, Exchange exchange)
    {
        exchange.StartPhase(Timeouts.Connect, LoopHttpErrorKind.ConnectTimeout);
        try
        {
            Mark(Loop, HttpMarks.Connect);
            var token = exchange.SlowToken;
            var socket = await (pool.Address is { } address ? SocketStream.ConnectAsync(address, null, token) : SocketStream.ConnectAsync(pool.Host, pool.Port, null, token));
            var connection = pool.IsHttps ? await HttpConnection.StartTlsAsync(pool, socket, Options, token) : HttpConnection.Plain(pool, socket, Options);
            Mark(Loop, HttpMarks.Connected);
            pool.Connected(connection);
            return connection;
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

    /// <summary>Records a step of the exchange for timelines (<see cref="HttpMarks"/>); one field test when not recording.</summary>
    internal static void Mark(EventLoop loop, string label)
    {
        if (loop.Recorder.IsEnabled)
        {
            loop.Recorder.Mark(label);
        }
    }

    /// <summary>The pool for <paramref name="uri"/>'s origin and its request-target bytes; the last one is remembered, as clients tend to repeat a URI.</summary>
    internal OriginPool PoolFor(Uri uri, out byte[] target)
    {
        if (!ReferenceEquals(uri, _lastUri))
        {
            string key = OriginKey(uri);
            if (!_pools.TryGetValue(key, out var pool))
            {
                pool = new OriginPool(this, uri);
                _pools.Add(key, pool);
            }

            _lastPool = pool;
            _lastTarget = System.Text.Encoding.ASCII.GetBytes(uri.GetComponents(UriComponents.PathAndQuery, UriFormat.UriEscaped));
            _lastUri = uri;
        }

        target = _lastTarget;
        return _lastPool!;
    }

    private static string OriginKey(Uri uri) => $"{uri.Scheme}://{uri.IdnHost}:{uri.Port}";

    /// <summary>Serializes the request head (and a small in-memory body) into <paramref name="head"/>; true when the body went with it.</summary>
    internal bool WriteHead(PooledByteBuffer head, LoopHttpRequest request, OriginPool pool, byte[] target)
    {
        HttpHeadWriter.WriteRequestLine(head, MethodBytes.Of(request.Method), target, HttpProtocolVersion.Http11);
        HttpHeadWriter.WriteField(head, "Host"u8, pool.HostHeader);
        if (Options.UserAgent is { } agent && !request.HasHeader("User-Agent"))
        {
            HttpHeadWriter.WriteField(head, "User-Agent", agent);
        }

        if (Options.AutomaticDecompression && !request.HasHeader("Accept-Encoding"))
        {
            HttpHeadWriter.WriteField(head, "Accept-Encoding"u8, ContentDecoding.AcceptEncoding);
        }

        foreach (var field in request.Headers)
        {
            if (field.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)
                || field.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                || field.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"The client writes '{field.Key}' itself, from the URI and the body.", nameof(request));
            }

            HttpHeadWriter.WriteField(head, field.Key, field.Value);
        }

        var body = request.Body;
        if (body is null)
        {
            // RFC 9110 8.6: a request whose method gives a body meaning says when it has none.
            if (request.Method is "POST" or "PUT" or "PATCH")
            {
                HttpHeadWriter.WriteContentLength(head, 0);
            }
        }
        else if (body.Length is { } length)
        {
            HttpHeadWriter.WriteContentLength(head, length);
        }
        else
        {
            HttpHeadWriter.WriteChunkedTransferEncoding(head);
        }

        if (body is not null && request.ExpectContinue)
        {
            HttpHeadWriter.WriteField(head, "Expect"u8, "100-continue"u8);
        }

        HttpHeadWriter.WriteEndOfHead(head);
        if (body is { Stream: null } && !request.ExpectContinue && body.Bytes.Length <= RequestBodyWriter.InlineLimit)
        {
            // One write for head and body: one syscall, one TLS record.
            head.Write(body.Bytes.Span);
            return true;
        }

        return false;
    }
}
