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
    // The parts the client is made of; they get the context, never the client (nothing below points back up).
    private readonly ClientContext _context;
    private readonly Origins _origins;
    private readonly ExchangePool _exchanges;
    private bool _disposed;
    // The Uri the last string URI was parsed into (its OriginalString is that string): a client that asks for the same
    // URI again, as a poller or a load test does, parses it once, and the origin lookup then finds its pool and
    // request target by reference (Origins.PoolFor). Uri is immutable, so requests may share it.
    private Uri? _lastParsed;

    /// <summary>Creates a client on the current loop.</summary>
    /// <param name="options">How to connect, pool, time out and redirect; null for <see cref="LoopHttpClientOptions.Default"/>.</param>
    /// <exception cref="InvalidOperationException">No loop runs on this thread.</exception>
    public LoopHttpClient(LoopHttpClientOptions? options = null)
    {
        Loop = EventLoop.Current;
        Options = options ?? LoopHttpClientOptions.Default;
        _context = new ClientContext(Loop, Options);
        _origins = new Origins(_context);
        _exchanges = new ExchangePool(_context, _origins);
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
        return _origins.OpenCount(uri);
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
            throw new InvalidOperationException(
                $"This LoopHttpClient belongs to the loop that created it and was used from thread {Environment.CurrentManagedThreadId}"
                + (EventLoop.CurrentOrNull is null ? ", which runs no loop" : ", another loop's")
                + ". A loop-bound object serves one loop only: give each loop its own client, e.g. with HttpServer's per-loop handler factory (new HttpServer(loop => ..., options)).");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LoopHttpResponse>(cancellationToken);
        }

        return _exchanges.Rent().Send(request, cancellationToken);
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
        SendAsync(new LoopHttpRequest("GET", Parse(uri)), cancellationToken);

    /// <summary>GETs <paramref name="uri"/> and reads the whole (decoded) body, whatever the status.</summary>
    /// <param name="uri">An absolute http or https URI.</param>
    /// <param name="cancellationToken">Abandons the request.</param>
    /// <returns>The body.</returns>
    public async Task<byte[]> GetBytesAsync(Uri uri, CancellationToken cancellationToken = default)
    {
        using var response = await GetAsync(uri, cancellationToken);
        return await response.ReadBodyAsync(cancellationToken);
    }

    /// <summary>GETs <paramref name="uri"/> and reads the whole (decoded) body as UTF-8 text, whatever the status.</summary>
    /// <param name="uri">An absolute http or https URI.</param>
    /// <param name="cancellationToken">Abandons the request.</param>
    /// <returns>The body text.</returns>
    public async Task<string> GetStringAsync(Uri uri, CancellationToken cancellationToken = default)
    {
        using var response = await GetAsync(uri, cancellationToken);
        return await response.ReadBodyTextAsync(cancellationToken);
    }

    /// <summary>GETs <paramref name="uri"/> and reads the whole (decoded) body, whatever the status.</summary>
    /// <param name="uri">An absolute http or https URI.</param>
    /// <param name="cancellationToken">Abandons the request.</param>
    /// <returns>The body.</returns>
    public Task<byte[]> GetBytesAsync(string uri, CancellationToken cancellationToken = default) =>
        GetBytesAsync(Parse(uri), cancellationToken);

    /// <summary>GETs <paramref name="uri"/> and reads the whole (decoded) body as UTF-8 text, whatever the status.</summary>
    /// <param name="uri">An absolute http or https URI.</param>
    /// <param name="cancellationToken">Abandons the request.</param>
    /// <returns>The body text.</returns>
    public Task<string> GetStringAsync(string uri, CancellationToken cancellationToken = default) =>
        GetStringAsync(Parse(uri), cancellationToken);

    /// <summary>An absolute URI parsed from <paramref name="uri"/>, or the last one when it was parsed from an equal string.</summary>
    private Uri Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var last = _lastParsed; // read once: a call from another thread (which SendAsync then refuses) sees one Uri or the other
        if (last is not null && string.Equals(last.OriginalString, uri, StringComparison.Ordinal))
        {
            return last;
        }

        var parsed = new Uri(uri, UriKind.Absolute);
        _lastParsed = parsed;
        return parsed;
    }

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
        _origins.CloseIdle();
        await _context.WhenClosedAsync();
    }
}
