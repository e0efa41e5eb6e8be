using System.Buffers;
using System.IO.Pipelines;

namespace Meanwhile.Http.Server;

/// <summary>
/// Where a handler writes its answer: status, header fields, body. Body bytes are buffered; when the handler returns
/// with everything buffered the response gets a <c>Content-Length</c>, otherwise (a flush, or more than
/// <see cref="HttpServerOptions.ResponseBufferBytes"/>) it is sent as it comes, chunked (close-delimited for HTTP/1.0)
/// unless <see cref="ContentLength"/> was set. <see cref="WriteAsync"/> waits while the client is slow (backpressure).
/// </summary>
/// <remarks>
/// Reused for request after request (pooled per loop between a connection's busy spells). <c>Date</c>, <c>Content-Length</c>, <c>Transfer-Encoding</c>
/// and <c>Connection</c> are the server's to write; use <see cref="ContentLength"/> and <see cref="CloseConnection"/>.
/// </remarks>
public sealed partial class ServerResponse : IBufferWriter<byte>
{
    private readonly RequestState _state;
    private const int HeaderBytes = 512;
    private const int BodyBytes = 4096;
    private readonly PooledByteBuffer _headers = new(HeaderBytes);
    private readonly PooledByteBuffer _body = new(BodyBytes);
    private HttpRequestHead? _head;
    private int _status;
    private long? _contentLength;
    private long _bodyBytes;
    private bool _closeRequested;
    private bool _started;
    private bool _chunked;
    private bool _keepAlive;
    private bool _raw;
    private ResponseBodyStream? _stream;
    private UpgradeHandler? _upgrade;
    private string? _upgradeProtocol;

    internal ServerResponse(RequestState state) => _state = state;

    /// <summary>The status code, 200 unless set; from 200 to 999 (interim responses are the server's business).</summary>
    /// <exception cref="InvalidOperationException">The head was already sent.</exception>
    public int StatusCode
    {
        get => _status;
        set
        {
            CheckNotStarted();
            if (_upgrade is not null) throw new InvalidOperationException("The response switches protocols (Upgrade was called): its status is 101.");
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 200);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 999);
            _status = value;
        }
    }

    /// <summary>The body's length when known up front; null (default) lets the server choose Content-Length or chunked.</summary>
    public long? ContentLength
    {
        get => _contentLength;
        set
        {
            CheckNotStarted();
            if (value is < 0) throw new ArgumentOutOfRangeException(nameof(value), value, "A length cannot be negative.");
            _contentLength = value;
        }
    }

    /// <summary>Close the connection after this response (sends <c>Connection: close</c>).</summary>
    public bool CloseConnection
    {
        get => _closeRequested;
        set
        {
            CheckNotStarted();
            _closeRequested = value;
        }
    }

    /// <summary>Whether the head has been sent (status and headers can no longer change).</summary>
    public bool HasStarted => _started;

    /// <summary>Body bytes written so far.</summary>
    public long BytesWritten => _bodyBytes;

    /// <summary>Adds a header field. Values are checked: a CR or LF can never start a second field.</summary>
    /// <param name="name">A token such as <c>Content-Type</c>.</param>
    /// <param name="value">Latin-1 text without control characters or surrounding whitespace.</param>
    /// <exception cref="ArgumentException">A bad name or value, or a field the server manages.</exception>
    public void AddHeader(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        CheckNotStarted();
        if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Date", StringComparison.OrdinalIgnoreCase))
            throw ManagedField(nameof(name));
        HttpHeadWriter.WriteField(_headers, name, value);
    }

    /// <summary>Adds a header field from bytes, without allocating.</summary>
    /// <param name="name">A token.</param>
    /// <param name="value">The value's bytes.</param>
    public void AddHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        CheckNotStarted();
        CheckUnmanaged(name);
        HttpHeadWriter.WriteField(_headers, name, value);
    }

    /// <summary>Adds a field line received in a parsed head (a proxy relaying a response): the parser checked it, so it is copied as is.</summary>
    /// <param name="field">A field line of a parsed head (<see cref="HttpFieldList"/>).</param>
    /// <exception cref="ArgumentException">A field the server writes itself (<c>Date</c>, <c>Content-Length</c>, <c>Transfer-Encoding</c>, <c>Connection</c>), or a default value.</exception>
    public void AddHeader(HttpField field)
    {
        CheckNotStarted();
        CheckUnmanaged(field.Name);
        HttpHeadWriter.WriteField(_headers, field);
    }

    /// <summary>
    /// A parsed field the caller relays and has already found to be none of the fields the server writes (the proxy,
    /// whose hop-by-hop set holds them all): no second look at its name.
    /// </summary>
    internal void AddForwardedField(HttpField field)
    {
        CheckNotStarted();
        HttpHeadWriter.WriteField(_headers, field);
    }

    /// <summary>A whole field line (<c>name: value CRLF</c>) built and checked once by the caller (the proxy's <c>Via</c>).</summary>
    internal void AddCheckedFieldLine(ReadOnlySpan<byte> line)
    {
        CheckNotStarted();
        _headers.Write(line);
    }

    /// <summary>A field whose name and value the caller checked once (static files' <c>Content-Type</c> from <see cref="MimeTypes"/>).</summary>
    internal void AddCheckedField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        CheckNotStarted();
        int length = name.Length + value.Length + 4;
        var line = _headers.GetSpan(length);
        name.CopyTo(line);
        line[name.Length] = (byte)':';
        line[name.Length + 1] = (byte)' ';
        value.CopyTo(line[(name.Length + 2)..]);
        line[length - 2] = (byte)'\r';
        line[length - 1] = (byte)'\n';
        _headers.Advance(length);
    }

    /// <summary>Buffers body bytes (sent when the handler returns or on a flush).</summary>
    /// <param name="data">The bytes.</param>
    public void Write(ReadOnlySpan<byte> data)
    {
        CountBody(data.Length);
        _body.Write(data);
    }

    /// <summary>Writes body bytes; once <see cref="HttpServerOptions.ResponseBufferBytes"/> are buffered, sends them and waits for the client to take them.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="cancellationToken">Checked before writing.</param>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(data.Span);
        return _body.Length >= _state.Server.Options.ResponseBufferBytes ? FlushAsync(cancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>Sends the head (if not yet sent) and the buffered body now, waiting for the socket to take them.</summary>
    /// <param name="cancellationToken">Checked before flushing.</param>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        CheckUsable();
        Emit(final: false);
        return _state.Output.FlushAsync();
    }

    /// <summary>
    /// Switches the connection to <paramref name="protocol"/> once the handler returns (RFC 9110 7.8): the server sends
    /// <c>101 Switching Protocols</c> with the header fields added, <c>Upgrade: <paramref name="protocol"/></c> and
    /// <c>Connection: Upgrade</c>, then hands the connection to <paramref name="handler"/>, which owns it until it
    /// returns. The request's objects are given back before that: read from them what the protocol needs first.
    /// </summary>
    /// <param name="protocol">The protocol token, e.g. <c>websocket</c>.</param>
    /// <param name="handler">What runs the connection after the switch.</param>
    /// <exception cref="InvalidOperationException">The head was sent, body bytes were written, the request is not HTTP/1.1, or it has a body.</exception>
    public void Upgrade(string protocol, UpgradeHandler handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        ArgumentNullException.ThrowIfNull(handler);
        CheckNotStarted();
        foreach (char c in protocol)
        {
            if (c <= ' ' || c >= 127 || c == ',') throw new ArgumentException("A protocol is a token (with an optional /version).", nameof(protocol));
        }
        if (_head!.Version != HttpProtocolVersion.Http11) throw new InvalidOperationException("Only an HTTP/1.1 request can switch protocols.");
        if (_head.HasBody) throw new InvalidOperationException("A request with a body cannot switch protocols here.");
        if (_bodyBytes > 0) throw new InvalidOperationException("A response that switches protocols has no body.");
        _status = 101;
        _upgrade = handler;
        _upgradeProtocol = protocol;
    }

    /// <summary>The handler to hand the connection to, once the 101 response was written; null for an ordinary response.</summary>
    internal UpgradeHandler? SwitchedTo => _started && _upgrade is not null ? _upgrade : null;

    /// <summary>The body as a write-only <see cref="Stream"/> (the same object for every request of the connection).</summary>
    public Stream Body => _stream ??= new ResponseBodyStream(this);

    /// <summary>A new <see cref="PipeWriter"/> over the body, for System.IO.Pipelines code.</summary>
    /// <param name="options">Buffer sizes; null for defaults.</param>
    public PipeWriter CreateBodyWriter(StreamPipeWriterOptions? options = null) =>
        PipeWriter.Create(Body, options ?? new StreamPipeWriterOptions(leaveOpen: true));

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint)
    {
        CheckUsable();
        return _body.GetSpan(sizeHint);
    }

    Memory<byte> IBufferWriter<byte>.GetMemory(int sizeHint)
    {
        CheckUsable();
        return _body.GetMemory(sizeHint);
    }

    void IBufferWriter<byte>.Advance(int count)
    {
        CountBody(count);
        _body.Advance(count);
    }

    private bool BodyForbidden => _head!.IsHead || _status is 204 or 304;

    private void CountBody(int count)
    {
        CheckUsable();
        if (_contentLength is long length && _bodyBytes + count > length)
            throw new InvalidOperationException($"The body would exceed the Content-Length of {length} bytes.");
        _bodyBytes += count;
    }

    internal void Begin(HttpRequestHead head)
    {
        _head = head;
        _status = 200;
        _contentLength = null;
        _bodyBytes = 0;
        _closeRequested = false;
        _started = false;
        _chunked = false;
        _raw = false;
        _keepAlive = false;
        _upgrade = null;
        _upgradeProtocol = null;
        _headers.Clear();
        _body.Clear();
    }

    /// <summary>After the handler: a body shorter than the Content-Length it promised is a handler error.</summary>
    internal void Validate()
    {
        if (_contentLength is long length && _bodyBytes != length && !(BodyForbidden && _bodyBytes == 0))
            throw new InvalidOperationException($"The handler set Content-Length {length} but wrote {_bodyBytes} body bytes.");
    }

    /// <summary>Drops what the handler buffered (before an error response replaces it).</summary>
    internal void Discard()
    {
        _upgrade = null;
        _headers.Release();
        _body.Release();
    }

    /// <summary>Writes what is left of the response into the connection's output; returns whether the connection may stay open.</summary>
    /// <param name="canContinue">False when the connection must close after this response whatever the request said.</param>
    internal bool Complete(bool canContinue)
    {
        if (!_started) _keepAlive = _head!.KeepAlive && !_closeRequested && canContinue;
        Emit(final: true);
        // Small buffers stay for the next request (also while the state waits in the loop's pool): a rent and a return
        // of each per request cost more than the request's own header writing; grown ones go back.
        _headers.Trim(HeaderBytes);
        _body.Trim(BodyBytes);
        return _keepAlive && canContinue;
    }

    /// <summary>Gives the buffers back to the shared pool: the state will not be reused.</summary>
    internal void ReleaseBuffers()
    {
        _headers.Release();
        _body.Release();
    }

    private void Emit(bool final)
    {
        var output = _state.Output.Buffer;
        if (!_started)
        {
            if (!final) _keepAlive = _head!.KeepAlive && !_closeRequested && !_state.Server.IsStopping;
            WriteHead(output, final);
            _started = true;
        }
        if (_body.Length > 0)
        {
            if (!BodyForbidden)
            {
                if (_chunked) HttpChunkedWriter.WriteChunk(output, _body.WrittenSpan);
                else output.Write(_body.WrittenSpan);
            }
            _body.Clear();
        }
        if (final && _chunked && !BodyForbidden) HttpChunkedWriter.WriteLastChunk(output);
    }

    private void WriteHead(PooledByteBuffer output, bool final)
    {
        var server = _state.Server;
        output.Write(StatusLines.For(_status));
        output.Write(server.Date.Line);
        server.WriteServerHeader(output);
        output.Write(_headers.WrittenSpan);
        if (_upgrade is not null)
        {
            // 101: no body and no framing; the connection belongs to the new protocol after the head.
            _keepAlive = false;
            HttpHeadWriter.WriteField(output, "Upgrade", _upgradeProtocol!);
            output.Write("Connection: Upgrade\r\n"u8);
            HttpHeadWriter.WriteEndOfHead(output);
            return;
        }
        if (_status is 204 or 304)
        {
            // No content and no framing (RFC 9110 8.6, 15.3.5, 15.4.5).
        }
        else if (_contentLength is long length) HttpHeadWriter.WriteContentLength(output, length);
        else if (final) HttpHeadWriter.WriteContentLength(output, _bodyBytes);
        else if (_head!.Version == HttpProtocolVersion.Http11)
        {
            _chunked = true;
            HttpHeadWriter.WriteChunkedTransferEncoding(output);
        }
        else _keepAlive = false; // HTTP/1.0 has no chunked coding: the close ends the body
        if (!_keepAlive) output.Write("Connection: close\r\n"u8);
        else if (_head!.Version == HttpProtocolVersion.Http10) output.Write("Connection: keep-alive\r\n"u8);
        HttpHeadWriter.WriteEndOfHead(output);
    }

    private void CheckNotStarted()
    {
        if (_started) throw new InvalidOperationException("The response head has already been sent.");
    }

    private void CheckUsable()
    {
        if (_upgrade is not null) throw new InvalidOperationException("The response switches protocols (Upgrade was called): it has no body.");
        if (_raw) throw new InvalidOperationException("The body is being sent raw (StartRawBodyAsync); write it on the returned stream.");
    }

    private static void CheckUnmanaged(ReadOnlySpan<byte> name)
    {
        bool managed = name.Length switch // by length first: most fields are none of these
        {
            4 => HttpField.EqualsIgnoreCase(name, "Date"u8),
            10 => HttpField.EqualsIgnoreCase(name, "Connection"u8),
            14 => HttpField.EqualsIgnoreCase(name, "Content-Length"u8),
            17 => HttpField.EqualsIgnoreCase(name, "Transfer-Encoding"u8),
            _ => false,
        };
        if (managed) throw ManagedField(nameof(name));
    }

    private static ArgumentException ManagedField(string parameter) =>
        new("Date, Content-Length, Transfer-Encoding and Connection are written by the server; use ContentLength and CloseConnection.", parameter);
}
