using System.Buffers;

namespace Meanwhile.Http;

/// <summary>Encodes a body with the chunked transfer coding (RFC 9112 7.1), for bodies whose length is not known up front.</summary>
public static class HttpChunkedWriter
{
    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    /// <summary>Writes one chunk: size line, <paramref name="data"/>, CRLF. Empty data writes nothing (an empty chunk would end the body).</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="data">The chunk content.</param>
    public static void WriteChunk(IBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (data.IsEmpty)
        {
            return;
        }

        WriteChunkHeader(output, data.Length);
        Span<byte> span = output.GetSpan(data.Length + 2);
        data.CopyTo(span);
        span[data.Length] = HttpChars.CR;
        span[data.Length + 1] = HttpChars.LF;
        output.Advance(data.Length + 2);
    }

    /// <summary>Writes just the size line of a chunk (<c>hex CRLF</c>), for a caller that sends the data itself, then <see cref="WriteChunkEnd"/>.</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="size">The chunk size, above zero.</param>
    public static void WriteChunkHeader(IBufferWriter<byte> output, long size)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        Span<byte> span = output.GetSpan(18);
        int digits = (67 - (int)ulong.LeadingZeroCount((ulong)size)) / 4;
        for (int i = digits - 1; i >= 0; i--)
        {
            span[i] = Hex[(int)(size & 0xF)];
            size >>= 4;
        }

        span[digits] = HttpChars.CR;
        span[digits + 1] = HttpChars.LF;
        output.Advance(digits + 2);
    }

    /// <summary>Writes the CRLF that follows chunk data sent after <see cref="WriteChunkHeader"/>.</summary>
    /// <param name="output">Where the bytes go.</param>
    public static void WriteChunkEnd(IBufferWriter<byte> output) => HttpHeadWriter.WriteRaw(output, "\r\n"u8);

    /// <summary>Writes the last chunk and an empty trailer section: <c>0 CRLF CRLF</c>.</summary>
    /// <param name="output">Where the bytes go.</param>
    public static void WriteLastChunk(IBufferWriter<byte> output) => HttpHeadWriter.WriteRaw(output, "0\r\n\r\n"u8);

    /// <summary>Writes the last chunk line only (<c>0 CRLF</c>); trailer fields follow with <see cref="HttpHeadWriter.WriteField(IBufferWriter{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>, then <see cref="HttpHeadWriter.WriteEndOfHead"/>.</summary>
    /// <param name="output">Where the bytes go.</param>
    public static void WriteLastChunkBeforeTrailers(IBufferWriter<byte> output) => HttpHeadWriter.WriteRaw(output, "0\r\n"u8);
}
