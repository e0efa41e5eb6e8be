using System.Buffers;

namespace Meanwhile.Http;

/// <content>The chunk-size lines of a chunked body; chunk data itself is handed out without copying.</content>
public abstract partial class HttpMessageParser
{
    private long _bodyRemaining;

    // A chunk-size line is parsed straight from the caller's input when it arrives whole; only a line split
    // across reads is copied here, so the common case copies nothing.
    private byte[]? _chunkLine;
    private int _chunkLineLength;

    private HttpParseStatus ParseChunkSizeLine(ReadOnlySpan<byte> input, ref int pos)
    {
        ReadOnlySpan<byte> rest = input[pos..];
        if (rest.IsEmpty)
        {
            return HttpParseStatus.NeedMoreData;
        }

        LineScanner.Outcome outcome = LineScanner.Scan(rest, ref _crPending, out int count);
        if (outcome is LineScanner.Outcome.BareCR or LineScanner.Outcome.BareLF)
        {
            return Fail(HttpParseErrorKind.InvalidChunkedBody, "chunk-size line not ended by CRLF");
        }

        int total = _chunkLineLength + count;
        int content = outcome == LineScanner.Outcome.LineEnd ? total - 2 : (_crPending ? total - 1 : total);
        if (content > Limits.MaxChunkLineBytes)
        {
            return Fail(HttpParseErrorKind.InvalidChunkedBody, "chunk-size line too long");
        }

        if (outcome == LineScanner.Outcome.Partial)
        {
            AppendChunkLine(rest[..count]);
            pos += count;
            return HttpParseStatus.NeedMoreData;
        }

        ReadOnlySpan<byte> line;
        if (_chunkLineLength == 0)
        {
            line = rest[..(count - 2)];
        }
        else
        {
            AppendChunkLine(rest[..count]);
            line = _chunkLine.AsSpan(0, _chunkLineLength - 2);
            _chunkLineLength = 0;
        }

        pos += count;
        HttpParseError lineError = ChunkSizeLine.Parse(line, out long size);
        if (lineError.IsError)
        {
            return Fail(lineError);
        }

        if (size == 0)
        {
            _state = State.Trailers;
            _lineStart = _store.Length;
            _sectionBytes = 0;
            return Continue;
        }

        if (size > Limits.MaxBodyBytes - BodyBytesReceived)
        {
            return Fail(HttpParseErrorKind.BodyTooLarge, "chunked body larger than the limit");
        }

        _bodyRemaining = size;
        _state = State.ChunkData;
        return Continue;
    }

    private void AppendChunkLine(ReadOnlySpan<byte> data)
    {
        int needed = _chunkLineLength + data.Length;
        if (_chunkLine is null || _chunkLine.Length < needed)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 64));
            if (_chunkLine is not null)
            {
                _chunkLine.AsSpan(0, _chunkLineLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_chunkLine);
            }

            _chunkLine = larger;
        }

        data.CopyTo(_chunkLine.AsSpan(_chunkLineLength));
        _chunkLineLength = needed;
    }

    private void ReleaseChunkLine()
    {
        _chunkLineLength = 0;
        if (_chunkLine is not null)
        {
            ArrayPool<byte>.Shared.Return(_chunkLine);
            _chunkLine = null;
        }
    }
}
