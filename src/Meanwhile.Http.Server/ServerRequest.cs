using System.Buffers;
using System.IO.Pipelines;
using System.Net;

namespace Meanwhile.Http.Server;

/// <summary>
/// The request a handler answers: its head exactly as received (method, target, version, header fields in arrival
/// order), its body as bytes, a <see cref="Stream"/> or a <see cref="PipeReader"/>, and the route values of the matched route.
/// </summary>
/// <remarks>
/// Reused for request after request (pooled per loop between a connection's busy spells): nothing here may be kept
/// after the handler returns.
/// Spans point into the parser's storage. Everything is for the loop thread.
/// </remarks>
public sealed class ServerRequest
{
    private const int MaxRouteValues = 8;
    private readonly RequestState _state;
    // Made by the first route value: most requests (no router, or a route without parameters) never need it.
    private RouteValue[]? _routeValues;
    private int _routeCount;
    private RequestBodyStream? _body;
    private string? _methodText;
    private string? _pathText;
    private string? _queryText;
    private bool _active;

    internal ServerRequest(RequestState state) => _state = state;

    /// <summary>The parsed head (fields, trailers once the body has been read, framing facts).</summary>
    public HttpRequestHead Head => _state.Parser.Head;

    /// <summary>The method, as received (case-sensitive, e.g. <c>GET</c>).</summary>
    public ReadOnlySpan<byte> Method => Head.Method;

    /// <summary>The request-target exactly as received: no decoding, no normalisation.</summary>
    public ReadOnlySpan<byte> Target => Head.Target;

    /// <summary>The target's path: up to the first <c>?</c> (still percent-encoded).</summary>
    public ReadOnlySpan<byte> Path
    {
        get
        {
            var target = Head.Target;
            int q = target.IndexOf((byte)'?');
            return q < 0 ? target : target[..q];
        }
    }

    /// <summary>The target's query: after the first <c>?</c>, without it; empty when there is none.</summary>
    public ReadOnlySpan<byte> Query
    {
        get
        {
            var target = Head.Target;
            int q = target.IndexOf((byte)'?');
            return q < 0 ? default : target[(q + 1)..];
        }
    }

    /// <summary>
    /// The method as a string (<c>"GET"</c>). The standard methods are shared constant strings, so this allocates only
    /// for an extension method, once per request.
    /// </summary>
    public string MethodText => _methodText ??= KnownMethod(Method) ?? System.Text.Encoding.ASCII.GetString(Method);

    /// <summary>
    /// The path as a string, percent-decoded as UTF-8 (as <see cref="GetRouteValue"/> decodes), e.g. <c>/a b</c> for
    /// <c>/a%20b?x=1</c>; made when first asked for, once per request. <see cref="Path"/> has the raw bytes.
    /// </summary>
    public string PathText => _pathText ??= Uri.UnescapeDataString(System.Text.Encoding.UTF8.GetString(Path));

    /// <summary>
    /// The query as a string, still percent-encoded (decode each parameter after splitting it), without the <c>?</c>;
    /// empty when there is none. Made when first asked for, once per request.
    /// </summary>
    public string QueryText => _queryText ??= Query.IsEmpty ? string.Empty : System.Text.Encoding.Latin1.GetString(Query);

    /// <summary>The protocol version of the request.</summary>
    public HttpProtocolVersion Version => Head.Version;

    /// <summary>True for HEAD: the response's body is not sent (its length still is).</summary>
    public bool IsHead => Head.IsHead;

    /// <summary>The header fields in arrival order.</summary>
    public HttpFieldList Headers => Head.Fields;

    /// <summary>The Content-Length the client sent, or null (no body, or a chunked one).</summary>
    public long? ContentLength => Head.ContentLength >= 0 ? Head.ContentLength : null;

    /// <summary>Whether the request has body content (chunked, or a Content-Length above zero).</summary>
    public bool HasBody => Head.HasBody;

    /// <summary>The client's address.</summary>
    public EndPoint? RemoteEndPoint => _state.Connection.Socket.RemoteEndPoint;

    /// <summary>The server's address for this connection.</summary>
    public EndPoint? LocalEndPoint => _state.Connection.Socket.LocalEndPoint;

    /// <summary>True when the request came over TLS (an <see cref="HttpServerOptions.Https"/> server).</summary>
    public bool IsHttps => _state.Connection.Stream is TlsStream;

    /// <summary>The TLS session of an HTTPS request (protocol, SNI host name, the client's certificate); null over plain HTTP.</summary>
    public TlsStream? Tls => _state.Connection.Stream as TlsStream;

    /// <summary>
    /// Fires when the answer is no longer wanted: the client closed or reset the connection (a half-close counts, as
    /// in Kestrel: a server cannot tell it apart), a timeout hit, or a graceful shutdown ran out of time.
    /// </summary>
    public CancellationToken Aborted => _state.AbortToken;

    /// <summary>True when the method is exactly <paramref name="method"/> (e.g. <c>"POST"u8</c>).</summary>
    /// <param name="method">The method to compare with.</param>
    public bool MethodIs(ReadOnlySpan<byte> method) => Head.MethodIs(method);

    /// <summary>The first value of header <paramref name="name"/> (case-insensitive), or false.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="value">Its first value.</param>
    public bool TryGetHeader(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value) => Head.Fields.TryGetValue(name, out value);

    /// <summary>
    /// Reads body content (de-chunked) into <paramref name="buffer"/>; 0 at its end. With <c>Expect: 100-continue</c>,
    /// the first read that has to wait for the client sends <c>100 Continue</c>.
    /// </summary>
    /// <param name="buffer">Where the bytes go.</param>
    /// <param name="cancellationToken">Checked before reading; a wait is ended by <see cref="Aborted"/>'s causes.</param>
    /// <exception cref="HttpParseException">The body is malformed or too large: the server answers its status and closes.</exception>
    /// <exception cref="EndOfStreamException">The client closed the connection inside the body.</exception>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckActive();
        cancellationToken.ThrowIfCancellationRequested();
        return _state.Body.ReadAsync(buffer);
    }

    /// <summary>Reads the whole remaining body into <paramref name="destination"/>; returns how many bytes that was.</summary>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Checked between reads.</param>
    public async ValueTask<long> ReadBodyAsync(IBufferWriter<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        long total = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = await ReadAsync(destination.GetMemory(4096), cancellationToken);
            if (n == 0) return total;
            destination.Advance(n);
            total += n;
        }
    }

    /// <summary>The body as a read-only <see cref="Stream"/> (made once, reused with this request object).</summary>
    public Stream Body => _body ??= new RequestBodyStream(this);

    /// <summary>A new <see cref="PipeReader"/> over the body, for System.IO.Pipelines code.</summary>
    /// <param name="options">Buffer sizes; null for defaults.</param>
    public PipeReader CreateBodyReader(StreamPipeReaderOptions? options = null) =>
        PipeReader.Create(Body, options ?? new StreamPipeReaderOptions(leaveOpen: true));

    /// <summary>The raw (still percent-encoded) value of route parameter <paramref name="name"/>.</summary>
    /// <param name="name">The parameter's name in the route pattern, e.g. <c>id</c> for <c>/users/{id}</c>.</param>
    /// <param name="value">Its bytes, a slice of the target.</param>
    public bool TryGetRouteValue(string name, out ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < _routeCount; i++)
        {
            var route = _routeValues![i];
            if (string.Equals(route.Name, name, StringComparison.Ordinal))
            {
                value = Head.Target.Slice(route.Start, route.Length);
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>Route parameter <paramref name="name"/>, percent-decoded as UTF-8, or null when the route has no such parameter.</summary>
    /// <param name="name">The parameter's name.</param>
    public string? GetRouteValue(string name) =>
        TryGetRouteValue(name, out var raw) ? Uri.UnescapeDataString(System.Text.Encoding.UTF8.GetString(raw)) : null;

    internal void ClearRouteValues() => _routeCount = 0;

    internal bool AddRouteValue(string name, int start, int length)
    {
        if (_routeCount == MaxRouteValues) return false;
        _routeValues ??= new RouteValue[MaxRouteValues];
        _routeValues[_routeCount++] = new RouteValue(name, start, length);
        return true;
    }

    /// <summary>A route parameter's name and where its value lies in the target.</summary>
    private readonly record struct RouteValue(string Name, int Start, int Length);

    internal void Begin()
    {
        _routeCount = 0;
        _methodText = _pathText = _queryText = null;
        _active = true;
    }

    internal void End() => _active = false;

    private void CheckActive()
    {
        if (!_active) throw new InvalidOperationException("This request's handler has returned; its body can no longer be read.");
    }

    private static string? KnownMethod(ReadOnlySpan<byte> method) => method switch
    {
        _ when method.SequenceEqual("GET"u8) => "GET",
        _ when method.SequenceEqual("POST"u8) => "POST",
        _ when method.SequenceEqual("HEAD"u8) => "HEAD",
        _ when method.SequenceEqual("PUT"u8) => "PUT",
        _ when method.SequenceEqual("DELETE"u8) => "DELETE",
        _ when method.SequenceEqual("PATCH"u8) => "PATCH",
        _ when method.SequenceEqual("OPTIONS"u8) => "OPTIONS",
        _ when method.SequenceEqual("CONNECT"u8) => "CONNECT",
        _ when method.SequenceEqual("TRACE"u8) => "TRACE",
        _ => null,
    };

    /// <inheritdoc />
    public override string ToString() => $"{System.Text.Encoding.Latin1.GetString(Method)} {System.Text.Encoding.Latin1.GetString(Target)}";
}

/// <summary>The request body as a read-only <see cref="Stream"/>; synchronous reads would block the loop and throw.</summary>
internal sealed class RequestBodyStream(ServerRequest request) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => request.ContentLength ?? throw new NotSupportedException("A chunked body has no length up front.");
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => request.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        request.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("A synchronous read would block the event loop; use ReadAsync.");
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The request body is read-only.");
}
