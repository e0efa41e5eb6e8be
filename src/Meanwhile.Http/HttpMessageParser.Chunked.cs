using System.Buffers;

namespace Meanwhile.Http;

/// <content>The chunk-size lines of a chunked body; chunk data itself is handed out without copying.</content>
public abstract partial class HttpMessageParser
{
    private long bodyRemaining;

    // A chunk-size line is parsed straight from the caller's input when it arrives whole; only a line split
    // across reads is copied here, so the common case copies nothing.
    private byte[]? chunkLine;
    private int chunkLineLength;

    private HttpParseStatus ParseChunkSizeLine(ReadOnlySpan<byte> input, ref int pos)
    {
        ReadOnlySpan<byte> rest = input[pos..];
        if (rest.IsEmpty)
        {
            return HttpParseStatus.NeedMoreData;
        }

        LineScanner.Outcome outcome = LineScanner.Scan(rest, ref crPending, out int count);
        if (outcome is LineScanner.Outcome.BareCR or LineScanner.Outcome.BareLF)
        {
            return Fail(HttpParseErrorKind.InvalidChunkedBody, "chunk-size line not ended by CRLF");
        }

        int total = chunkLineLength + count;
        int content = outcome == LineScanner.Outcome.LineEnd ? total - 2 : (crPending ? total - 1 : total);
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
        if (chunkLineLength == 0)
        {
            line = rest[..(count - 2)];
        }
        else
        {
            AppendChunkLine(rest[..count]);
            line = chunkLine.AsSpan(0, chunkLineLength - 2);
            chunkLineLength = 0;
        }

        pos += count;
        HttpParseError lineError = ChunkSizeLine.Parse(line, out long size);
        if (lineError.IsError)
        {
            return Fail(lineError);
        }

        if (size == 0)
        {
            state = State.Trailers;
            lineStart = store.Length;
            sectionBytes = 0;
            return Continue;
        }

        if (size > Limits.MaxBodyBytes - BodyBytesReceived)
        {
            return Fail(HttpParseErrorKind.BodyTooLarge, "chunked body larger than the limit");
        }

        bodyRemaining = size;
        state = State.ChunkData;
        return Continue;
    }

    private void AppendChunkLine(ReadOnlySpan<byte> data)
    {
        int needed = chunkLineLength + data.Length;
        if (chunkLine is null || chunkLine.Length < needed)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 64));
            if (chunkLine is not null)
            {
                chunkLine.AsSpan(0, chunkLineLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(chunkLine);
            }

            chunkLine = larger;
        }

        data.CopyTo(chunkLine.AsSpan(chunkLineLength));
        chunkLineLength = needed;
    }

    private void ReleaseChunkLine()
    {
        chunkLineLength = 0;
        if (chunkLine is not null)
        {
            ArrayPool<byte>.Shared.Return(chunkLine);
            chunkLine = null;
        }
    }
}
