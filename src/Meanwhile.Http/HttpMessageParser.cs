using System.Buffers;

namespace Meanwhile.Http;

/// <summary>
/// The incremental HTTP/1.1 message parser shared by <see cref="HttpRequestParser"/> and
/// <see cref="HttpResponseParser"/>: bytes are pushed in as they arrive, split anywhere, and each call
/// reports one event (head complete, a piece of body, message complete, error) and how many bytes it used.
/// </summary>
/// <remarks>
/// <para>
/// The head is copied into storage the parser owns (it must outlive the caller's read buffer); body bytes
/// are never copied: <see cref="HttpParseStatus.Body"/> hands back a slice of the caller's input.
/// When the result is <see cref="HttpParseStatus.NeedMoreData"/> every input byte has been consumed, so
/// a connection can return its read buffer to a pool between reads. Any other result leaves the unused
/// rest of the input to the caller, who passes it to the next call: that is how pipelined messages are read.
/// </para>
/// <para>Not thread-safe: one parser per connection. Allocates nothing once its buffers are warm.</para>
/// </remarks>
public abstract partial class HttpMessageParser : IDisposable
{
    private readonly HeadStore _store;
    private readonly HttpMessageHead _head;
    private State _state;
    private HttpParseError _error;

    private protected HttpMessageParser(HttpParserLimits limits, HttpMessageHead head)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Limits = limits;
        this._head = head;
        _store = head.Store;
    }

    /// <summary>Where the parser is in a message.</summary>
    private enum State : byte
    {
        StartLine,
        Fields,
        NoBody,
        FixedBody,
        ChunkSizeLine,
        ChunkData,
        ChunkDataCR,
        ChunkDataLF,
        Trailers,
        UntilClose,
        MessageDone,
        Failed,
    }

    /// <summary>The limits this parser enforces.</summary>
    public HttpParserLimits Limits { get; }

    /// <summary>Why parsing stopped, once a call returned <see cref="HttpParseStatus.Error"/>; <c>default</c> before.</summary>
    public HttpParseError Error => _error;

    /// <summary>Body content bytes delivered so far for the current message (after de-chunking).</summary>
    public long BodyBytesReceived { get; private set; }

    /// <summary>True between messages: nothing of a next message has been received (empty lines aside).</summary>
    public bool IsIdle => _state == State.MessageDone || (_state == State.StartLine && _store.Length == 0 && !_crPending);

    /// <summary>Parses as much of <paramref name="input"/> as the next event needs.</summary>
    /// <param name="input">Bytes received on the connection, starting where the previous call stopped.</param>
    /// <param name="consumed">How many bytes of <paramref name="input"/> were used; the caller keeps the rest for the next call.</param>
    /// <param name="body">With <see cref="HttpParseStatus.Body"/>: body content, a slice of <paramref name="input"/>; otherwise empty.</param>
    /// <returns>The event reached. After <see cref="HttpParseStatus.MessageComplete"/>, the next call begins the next message and invalidates the head.</returns>
    public HttpParseStatus Parse(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> body)
    {
        body = default;
        if (_state == State.MessageDone)
        {
            BeginMessage();
        }

        int pos = 0;
        while (true)
        {
            HttpParseStatus status;
            switch (_state)
            {
                case State.StartLine:
                case State.Fields:
                case State.Trailers:
                    status = ParseLines(input, ref pos);
                    break;

                case State.NoBody:
                    _state = State.MessageDone;
                    status = HttpParseStatus.MessageComplete;
                    break;

                case State.FixedBody:
                case State.ChunkData:
                case State.UntilClose:
                    if (_state != State.UntilClose && _bodyRemaining == 0)
                    {
                        if (_state == State.FixedBody)
                        {
                            _state = State.MessageDone;
                            status = HttpParseStatus.MessageComplete;
                            break;
                        }

                        _state = State.ChunkDataCR;
                        continue;
                    }

                    if (pos == input.Length)
                    {
                        status = HttpParseStatus.NeedMoreData;
                        break;
                    }

                    status = TakeBody(input, ref pos, out body);
                    break;

                case State.ChunkSizeLine:
                    status = ParseChunkSizeLine(input, ref pos);
                    if (status == Continue)
                    {
                        continue;
                    }

                    break;

                case State.ChunkDataCR:
                case State.ChunkDataLF:
                    if (pos == input.Length)
                    {
                        status = HttpParseStatus.NeedMoreData;
                        break;
                    }

                    if (input[pos] != (_state == State.ChunkDataCR ? HttpChars.CR : HttpChars.LF))
                    {
                        status = Fail(HttpParseErrorKind.InvalidChunkedBody, "chunk data not followed by CRLF");
                        break;
                    }

                    pos++;
                    _state = _state == State.ChunkDataCR ? State.ChunkDataLF : State.ChunkSizeLine;
                    continue;

                default:
                    status = HttpParseStatus.Error;
                    break;
            }

            consumed = status == HttpParseStatus.Error ? 0 : pos;
            return status;
        }
    }

    /// <summary>Tells the parser the peer closed its sending side: completes a body delimited by the close, or reports a cut-short message.</summary>
    /// <returns>
    /// <see cref="HttpParseStatus.EndOfStream"/> when the input ended between messages,
    /// <see cref="HttpParseStatus.MessageComplete"/> when the close ended the message, or
    /// <see cref="HttpParseStatus.Error"/> (<see cref="HttpParseErrorKind.IncompleteMessage"/>) when it was cut short.
    /// </returns>
    public HttpParseStatus EndOfInput()
    {
        switch (_state)
        {
            case State.Failed:
                return HttpParseStatus.Error;
            case State.MessageDone:
                return HttpParseStatus.EndOfStream;
            case State.StartLine when _store.Length == 0 && !_crPending:
                return HttpParseStatus.EndOfStream;
            case State.NoBody:
            case State.UntilClose:
            case State.FixedBody when _bodyRemaining == 0:
                _state = State.MessageDone;
                return HttpParseStatus.MessageComplete;
            case State.StartLine:
            case State.Fields:
                return Fail(HttpParseErrorKind.IncompleteMessage, "connection closed inside the message head");
            default:
                return Fail(HttpParseErrorKind.IncompleteMessage, "connection closed inside the message body");
        }
    }

    /// <summary>Forgets any partial message and error, as for a new connection; keeps the buffers.</summary>
    public void Reset()
    {
        BeginMessage();
        _error = default;
    }

    /// <summary>Returns the head buffers to the shared pool when the connection is idle, so idle connections hold no parser memory.</summary>
    /// <returns>False (and nothing released) when a message is in progress. After release the previous head is no longer readable.</returns>
    public bool ReleaseBuffers()
    {
        if (!IsIdle)
        {
            return false;
        }

        BeginMessage();
        _store.Release();
        ReleaseChunkLine();
        return true;
    }

    /// <summary>Returns pooled buffers; the parser must not be used afterwards.</summary>
    public void Dispose()
    {
        _store.Release();
        ReleaseChunkLine();
        _state = State.Failed;
        _error = new HttpParseError(HttpParseErrorKind.IncompleteMessage, "parser disposed");
        GC.SuppressFinalize(this);
    }

    /// <summary>Parses the start line (its content, without CRLF) stored at <paramref name="offset"/> into the head.</summary>
    private protected abstract HttpParseError ParseStartLine(ReadOnlySpan<byte> line, int offset);

    /// <summary>Judges the complete head and sets <see cref="HttpMessageHead.Framing"/>.</summary>
    private protected abstract HttpParseError CompleteHead();

    /// <summary>True for the request parser: Host rules apply.</summary>
    private protected abstract bool IsRequest { get; }

    /// <summary>The error kind for a malformed start line.</summary>
    private protected abstract HttpParseErrorKind StartLineErrorKind { get; }

    private void BeginMessage()
    {
        _store.Clear();
        _head.Reset();
        _state = State.StartLine;
        _crPending = false;
        _lineStart = 0;
        _sectionBytes = 0;
        _skippedBytes = 0;
        _bodyRemaining = 0;
        _chunkLineLength = 0;
        BodyBytesReceived = 0;
    }

    private HttpParseStatus Fail(HttpParseErrorKind kind, string reason)
    {
        _error = new HttpParseError(kind, reason);
        _state = State.Failed;
        return HttpParseStatus.Error;
    }

    private HttpParseStatus Fail(HttpParseError parseError)
    {
        _error = parseError;
        _state = State.Failed;
        return HttpParseStatus.Error;
    }

    private HttpParseStatus TakeBody(ReadOnlySpan<byte> input, scoped ref int pos, out ReadOnlySpan<byte> body)
    {
        int available = input.Length - pos;
        int take = _state == State.UntilClose ? available : (int)Math.Min(available, _bodyRemaining);
        if (_state == State.UntilClose && take > Limits.MaxBodyBytes - BodyBytesReceived)
        {
            body = default;
            return Fail(HttpParseErrorKind.BodyTooLarge, "body larger than the limit");
        }

        body = input.Slice(pos, take);
        pos += take;
        if (_state != State.UntilClose)
        {
            _bodyRemaining -= take;
        }

        BodyBytesReceived += take;
        return HttpParseStatus.Body;
    }
}
