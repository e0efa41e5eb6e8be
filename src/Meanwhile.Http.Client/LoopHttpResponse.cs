using System.Buffers;
using Meanwhile.Http;

namespace Meanwhile.Http.Client;

/// <summary>
/// A response whose head has arrived; its body is read through <see cref="Content"/> (or <see cref="ReadAsBytesAsync"/>,
/// <see cref="ReadAsStringAsync"/>). Dispose it: that returns the connection to the pool when the body was read to its
/// end, and closes the connection otherwise.
/// </summary>
/// <remarks>
/// The response owns its connection until disposed, so <see cref="Head"/> (the parser's zero-copy view of the head)
/// stays valid until then. Use it from the loop thread of the client.
/// </remarks>
public sealed class LoopHttpResponse : IAsyncDisposable, IDisposable
{
    private readonly ClientConnection _connection;
    private readonly Exchange _exchange;
    private readonly bool _decode;
    private Stream? _content;
    private bool _released;
    private bool _ownsExchange = true;

    internal LoopHttpResponse(ClientConnection connection, Uri uri, string method, Exchange exchange, bool decode, int redirects)
    {
        this._connection = connection;
        this._exchange = exchange;
        this._decode = decode;
        RequestUri = uri;
        Method = method;
        RedirectCount = redirects;
        StatusCode = connection.Head.StatusCode;
    }

    /// <summary>The status code.</summary>
    public int StatusCode { get; }

    /// <summary>True for 2xx.</summary>
    public bool IsSuccessStatusCode => StatusCode is >= 200 and < 300;

    /// <summary>The URI this response answers (the last one when redirects were followed).</summary>
    public Uri RequestUri { get; }

    /// <summary>The method of the request this response answers (a redirect may have changed it).</summary>
    public string Method { get; }

    /// <summary>How many redirects were followed to get here.</summary>
    public int RedirectCount { get; }

    /// <summary>The head as parsed: version, reason phrase, header fields and (after a chunked body) trailers. Valid until disposed.</summary>
    public HttpResponseHead Head
    {
        get
        {
            ObjectDisposedException.ThrowIf(_released, this);
            return _connection.Head;
        }
    }

    /// <summary>The protocol version of the response.</summary>
    public HttpProtocolVersion Version => Head.Version;

    /// <summary>The Content-Length the server sent, or -1 (also -1 when the body is decoded: the decoded length is unknown).</summary>
    public long ContentLength => IsDecoded ? -1 : Head.ContentLength;

    /// <summary>True when <see cref="Content"/> undoes a Content-Encoding (gzip, deflate, br).</summary>
    public bool IsDecoded { get; private set; }

    /// <summary>The body, decoded when automatic decompression is on and the coding is known. Read it with ReadAsync.</summary>
    public Stream Content
    {
        get
        {
            ObjectDisposedException.ThrowIf(_released, this);
            if (_content is null)
            {
                Stream raw = new ResponseBodyStream(this);
                _content = raw;
                if (_decode && Head.Fields.TryGetValue("Content-Encoding"u8, out var codings) && ContentDecoding.TryDecode(raw, codings) is { } decoded && decoded != raw)
                {
                    _content = decoded;
                    IsDecoded = true;
                }
            }

            return _content;
        }
    }

    /// <summary>The first value of the header field <paramref name="name"/>, as Latin-1 text, or null.</summary>
    /// <param name="name">The field name (case-insensitive).</param>
    /// <returns>The value, or null when absent.</returns>
    public string? GetHeader(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> bytes = name.Length <= 256 ? stackalloc byte[name.Length] : new byte[name.Length];
        int n = System.Text.Encoding.Latin1.GetBytes(name, bytes);
        return Head.Fields.TryGetValue(bytes[..n], out var value) ? System.Text.Encoding.Latin1.GetString(value) : null;
    }

    /// <summary>Reads the whole (decoded) body.</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The body bytes.</returns>
    public Task<byte[]> ReadAsBytesAsync(CancellationToken cancellationToken = default) => ReadBodyAsync(cancellationToken).AsTask();

    /// <summary>
    /// <see cref="ReadAsBytesAsync"/> as a value task: a body already received (the usual small response) costs no task.
    /// Not pooled: the body stream's reads may complete with a Task, which must resume on the loop's context.
    /// </summary>
    internal async ValueTask<byte[]> ReadBodyAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_released, this);
        Stream? body = BodyStreamIfNeeded();
        if (!IsDecoded && Head.Framing == HttpBodyFraming.ContentLength && Head.ContentLength <= int.MaxValue)
        {
            // The exact size is known: one array, no copies.
            var exact = new byte[Head.ContentLength];
            await FillAsync(body, exact, cancellationToken);
            return exact;
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(16 * 1024);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == rented.Length)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent(rented.Length * 2);
                    rented.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(rented);
                    rented = larger;
                }

                int n = await ReadSomeAsync(body, rented.AsMemory(length), cancellationToken);
                if (n == 0)
                {
                    return rented.AsSpan(0, length).ToArray();
                }

                length += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Reads the whole (decoded) body as UTF-8 text.</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The body text.</returns>
    public async Task<string> ReadAsStringAsync(CancellationToken cancellationToken = default) => await ReadBodyTextAsync(cancellationToken);

    /// <summary>
    /// The whole (decoded) body as UTF-8 text. A body of known size up to <see cref="MaxPooledTextBytes"/> is read into
    /// a pooled array and decoded from there: the text is all the caller keeps, so no array is made for it.
    /// </summary>
    internal async ValueTask<string> ReadBodyTextAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_released, this);
        Stream? body = BodyStreamIfNeeded(); // first: opening a decoded body's Stream sets IsDecoded
        if (IsDecoded || Head.Framing != HttpBodyFraming.ContentLength || Head.ContentLength > MaxPooledTextBytes)
        {
            return System.Text.Encoding.UTF8.GetString(await ReadBodyAsync(cancellationToken));
        }

        int size = (int)Head.ContentLength;
        if (size == 0)
        {
            return string.Empty;
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            int read = await FillAsync(body, rented.AsMemory(0, size), cancellationToken);
            return System.Text.Encoding.UTF8.GetString(rented, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the body ends; returns the bytes read.</summary>
    private async ValueTask<int> FillAsync(Stream? body, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int at = 0;
        while (at < buffer.Length)
        {
            int n = await ReadSomeAsync(body, buffer[at..], cancellationToken);
            if (n == 0)
            {
                break; // cannot happen for a sized body: the connection reports a short one as an error
            }

            at += n;
        }

        return at;
    }

    /// <summary>One read of the body: through <paramref name="body"/> when it needs a Stream (<see cref="BodyStreamIfNeeded"/>), else from the connection.</summary>
    private ValueTask<int> ReadSomeAsync(Stream? body, Memory<byte> buffer, CancellationToken cancellationToken) =>
        body is null ? ReadRawBodyAsync(buffer, cancellationToken) : body.ReadAsync(buffer, cancellationToken);

    // Above this, a text body's bytes are read into an array of their own (the shared pool would keep a large one).
    private const int MaxPooledTextBytes = 64 * 1024;

    /// <summary>
    /// The Stream a body is read through, or null: only a body that may be decoded (or one already opened as Content) is;
    /// a plain one is read from the connection as the Stream would read it, with no Stream made.
    /// </summary>
    private Stream? BodyStreamIfNeeded() =>
        _content is not null || (_decode && Head.Fields.TryGetValue("Content-Encoding"u8, out _)) ? Content : null;

    /// <summary>Releases the connection: back to the pool when the body was read to its end (or already fully received), closed otherwise.</summary>
    /// <returns>Completes at once.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Same as <see cref="DisposeAsync"/>; nothing here blocks.</summary>
    public void Dispose()
    {
        if (_released)
        {
            return;
        }

        bool complete = _connection.BodyComplete || _connection.TryCompleteFromBuffer(RequestUri);
        _released = true;
        _content?.Dispose();
        if (_exchange.Connection == _connection)
        {
            _exchange.Connection = null; // from now on the connection may serve another exchange: this one must not close it
        }

        _connection.Release(complete);
        if (_ownsExchange)
        {
            _exchange.Finish();
        }
    }

    /// <summary>Releases the connection but keeps the exchange (its timeouts, the caller's token): a redirect carries it on to the next request.</summary>
    internal void ReleaseForRedirect()
    {
        _ownsExchange = false;
        Dispose();
    }

    /// <summary>Reads the body as the connection delivers it (de-chunked, not decoded): at once when the bytes are buffered.</summary>
    internal ValueTask<int> ReadRawBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_released)
        {
            return ValueTask.FromException<int>(new ObjectDisposedException(nameof(LoopHttpResponse)));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        try
        {
            if (!_exchange.Ended && _connection.TryReadBuffered(buffer, RequestUri, out int read))
            {
                return new ValueTask<int>(read);
            }
        }
        catch (Exception e)
        {
            return ValueTask.FromException<int>(_exchange.Translate(e, RequestUri));
        }

        return ReadRawBodySlowAsync(buffer, cancellationToken);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadRawBodySlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // The read's own token ends the whole exchange, as the caller's token of SendAsync does: the connection is
        // closed, since a response abandoned midway cannot be resumed.
        var link = _exchange.Link(cancellationToken);
        try
        {
            if (_exchange.Ended)
            {
                throw new OperationCanceledException();
            }

            return await _connection.ReadBodyAsync(buffer, RequestUri);
        }
        catch (Exception e) when (_exchange.Translate(e, RequestUri) is var translated && translated != e)
        {
            throw translated;
        }
        finally
        {
            link.Dispose();
        }
    }
}
