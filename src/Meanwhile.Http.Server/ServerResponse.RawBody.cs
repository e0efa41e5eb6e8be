namespace Meanwhile.Http.Server;

// A body the server does not copy: the head goes out, then the handler writes the body on the connection itself
// (static files with sendfile).
public sealed partial class ServerResponse
{
    /// <summary>
    /// The seam for bodies the server does not copy (static files with sendfile): sends the head with
    /// <c>Content-Length: <paramref name="contentLength"/></c> and everything before it, then hands over the connection's
    /// stream, on which the caller writes exactly <paramref name="contentLength"/> bytes before returning from its handler.
    /// </summary>
    /// <param name="contentLength">The body's exact length.</param>
    /// <param name="cancellationToken">Checked before sending.</param>
    /// <returns>The stream to write the body on, or null when no body may be sent (HEAD, 204, 304): then write nothing.</returns>
    public ValueTask<DataStream?> StartRawBodyAsync(long contentLength, CancellationToken cancellationToken = default) =>
        StartRawBodyAsync(contentLength, fileSocket: null, cancellationToken);

    /// <summary>
    /// <see cref="StartRawBodyAsync(long, CancellationToken)"/> for a body the caller sends at once with sendfile on
    /// <paramref name="fileSocket"/> (the connection's socket): the head leaves marked "more follows", so it shares the
    /// body's first segment.
    /// </summary>
    internal async ValueTask<DataStream?> StartRawBodyAsync(long contentLength, SocketStream? fileSocket, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contentLength);
        cancellationToken.ThrowIfCancellationRequested();
        await StartRawBody(contentLength, fileSocket);
        return BodyForbidden ? null : _state.Connection.Stream;
    }

    /// <summary>
    /// <see cref="StartRawBodyAsync(long, SocketStream?, CancellationToken)"/> without a frame of its own: completes
    /// synchronously when the socket took the head at once (the usual case), so a file handler that then sends its body
    /// at once needs no async frame at all. The caller writes the body on the connection's stream unless
    /// <see cref="RawBodyForbidden"/>.
    /// </summary>
    internal ValueTask StartRawBody(long contentLength, SocketStream? fileSocket)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contentLength);
        if (_bodyBytes > 0) throw new InvalidOperationException("Body bytes were already written; a raw body must be the whole body.");
        ContentLength = contentLength;
        Emit(final: false);
        // From here on the body is the caller's: no byte may be written through the response (if the head fails to
        // leave, the handler's failure aborts the connection, since the head has started).
        _raw = true;
        _bodyBytes = contentLength;
        // Only when a body follows: a head marked "more" alone would wait in the kernel for bytes that never come.
        return fileSocket is not null && contentLength > 0 && !BodyForbidden
            ? _state.Output.FlushAheadOfFileAsync(fileSocket)
            : _state.Output.FlushAsync();
    }

    /// <summary>A raw body started with <see cref="StartRawBody"/> must not be sent (HEAD, 204, 304).</summary>
    internal bool RawBodyForbidden => BodyForbidden;

    /// <summary>The connection's stream (the socket), for handlers of this assembly that write bodies themselves.</summary>
    internal DataStream ConnectionStream => _state.Connection.Stream;
}
