using System.Buffers;

namespace Meanwhile.Http;

/// <summary>
/// The input side of one HTTP/1.1 connection: a read buffer rented from <see cref="ArrayPool{T}.Shared"/> only while
/// it is needed, the window of received bytes the parser has not consumed yet, and the parse step over that window,
/// which keeps the body piece the parser delimited until the caller takes it. The Meanwhile server and client both
/// read through it; the reading itself (a socket, TLS) is the caller's.
/// </summary>
/// <remarks>
/// <para>
/// The cycle: when <see cref="Buffered"/> is 0, read into <see cref="GetReadMemory"/> and report the count with
/// <see cref="Advance"/> (0 for the end of the stream); then call <see cref="Parse"/> until it asks for more data. A
/// connection that waits for data before renting (a zero-byte read) holds no buffer while it waits: call
/// <see cref="Release"/> once the parser consumed everything (<see cref="HttpParseStatus.NeedMoreData"/> says so).
/// </para>
/// <para>Body bytes are never copied before <see cref="TakeBody"/>: they stay in the read buffer. Not thread-safe.</para>
/// </remarks>
public sealed class HttpInputReader
{
    private readonly int _bufferSize;
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private int _bodyStart;
    private int _bodyLength;

    /// <summary>Creates a reader that feeds <paramref name="parser"/>; nothing is rented until the first read.</summary>
    /// <param name="parser">The parser for the messages read (requests on a server, responses on a client).</param>
    /// <param name="bufferSize">How many bytes one read may bring (the pool may hand out a larger array, which is used whole).</param>
    public HttpInputReader(HttpMessageParser parser, int bufferSize)
    {
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufferSize);
        Parser = parser;
        _bufferSize = bufferSize;
    }

    /// <summary>The parser the bytes go to.</summary>
    public HttpMessageParser Parser { get; }

    /// <summary>True while a read buffer is rented.</summary>
    public bool HasBuffer => _buffer is not null;

    /// <summary>Bytes received and not yet consumed by the parser (a pipelined request, the rest of a body).</summary>
    public int Buffered => _end - _start;

    /// <summary>Body bytes the parser has delimited and the caller has not taken yet.</summary>
    public int BodyAvailable => _bodyLength;

    /// <summary>True once a read reported the end of the stream (<see cref="Advance"/> with 0).</summary>
    public bool IsEndOfInput { get; private set; }

    /// <summary>Where the next read goes: the whole buffer, rented now if none is held. Only when everything received was consumed and taken.</summary>
    /// <returns>The memory to read into; report how much came with <see cref="Advance"/>.</returns>
    /// <exception cref="InvalidOperationException">Bytes are still buffered or a body piece is untaken.</exception>
    public Memory<byte> GetReadMemory()
    {
        if (_start != _end || _bodyLength != 0) throw new InvalidOperationException("Read more only once the parser has consumed the buffered bytes and the body piece was taken.");
        _start = _end = 0;
        return _buffer ??= ArrayPool<byte>.Shared.Rent(_bufferSize);
    }

    /// <summary>Records that a read into <see cref="GetReadMemory"/> brought <paramref name="count"/> bytes; 0 means the peer closed its side.</summary>
    /// <param name="count">The read's result.</param>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            IsEndOfInput = true;
            return;
        }
        if (_buffer is null || _end + count > _buffer.Length) throw new InvalidOperationException("Advanced past the memory handed out for the read.");
        _end += count;
    }

    /// <summary>
    /// Runs the parser over the buffered bytes up to its next event. A <see cref="HttpParseStatus.Body"/> piece stays in
    /// the buffer for <see cref="TakeBody"/>. At the end of the input, when the parser needs more data, this is the
    /// parser's <see cref="HttpMessageParser.EndOfInput"/> verdict instead.
    /// </summary>
    /// <returns>The parser's event.</returns>
    public HttpParseStatus Parse()
    {
        var status = Parser.Parse(_buffer.AsSpan(_start, _end - _start), out int consumed, out var body);
        _start += consumed;
        switch (status)
        {
            case HttpParseStatus.Body:
                // The piece is a slice of our buffer ending where the parser stopped.
                _bodyStart = _start - body.Length;
                _bodyLength = body.Length;
                break;
            case HttpParseStatus.NeedMoreData when IsEndOfInput:
                return Parser.EndOfInput();
        }
        return status;
    }

    /// <summary>Copies body bytes the parser delimited into <paramref name="destination"/>.</summary>
    /// <param name="destination">Where they go.</param>
    /// <returns>How many were copied: at most <see cref="BodyAvailable"/>.</returns>
    public int TakeBody(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, _bodyLength);
        _buffer.AsSpan(_bodyStart, n).CopyTo(destination);
        _bodyStart += n;
        _bodyLength -= n;
        return n;
    }

    /// <summary>Drops the body piece not taken yet.</summary>
    public void DiscardBody() => _bodyLength = 0;

    /// <summary>Returns the buffer to the pool and forgets everything received (the parser keeps its own state): the reader is as new.</summary>
    public void Release()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Forget();
    }

    /// <summary>
    /// Forgets the buffer without returning it to the pool, and everything received: for a connection closed while a
    /// read may still be writing into the buffer, which the GC then takes back.
    /// </summary>
    public void Abandon()
    {
        _buffer = null;
        Forget();
    }

    private void Forget()
    {
        _start = _end = 0;
        _bodyLength = 0;
        IsEndOfInput = false;
    }
}
