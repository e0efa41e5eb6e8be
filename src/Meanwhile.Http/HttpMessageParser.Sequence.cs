using System.Buffers;

namespace Meanwhile.Http;

/// <content>Parsing from a <see cref="ReadOnlySequence{T}"/>, as a <c>PipeReader</c> hands out.</content>
public abstract partial class HttpMessageParser
{
    /// <summary>Parses from a possibly multi-segment sequence; the same events as the span overload.</summary>
    /// <param name="input">Bytes received on the connection, starting where the previous call stopped.</param>
    /// <param name="consumed">Where the parser stopped; the caller advances its reader to here.</param>
    /// <param name="body">With <see cref="HttpParseStatus.Body"/>: body content, a slice of <paramref name="input"/>.</param>
    /// <returns>The event reached.</returns>
    public HttpParseStatus Parse(in ReadOnlySequence<byte> input, out SequencePosition consumed, out ReadOnlySequence<byte> body)
    {
        body = default;
        if (input.IsEmpty)
        {
            // An empty sequence may still complete a message (one without a body).
            consumed = input.End;
            return Parse([], out _, out _);
        }

        long offset = 0;
        foreach (ReadOnlyMemory<byte> segment in input)
        {
            HttpParseStatus status = Parse(segment.Span, out int used, out ReadOnlySpan<byte> bodySpan);
            if (status != HttpParseStatus.NeedMoreData)
            {
                // Anything but NeedMoreData may stop inside the segment: report the exact position.
                consumed = input.GetPosition(offset + used);
                if (!bodySpan.IsEmpty)
                {
                    body = input.Slice(offset + used - bodySpan.Length, bodySpan.Length);
                }

                return status;
            }

            offset += segment.Length;
        }

        consumed = input.End;
        return HttpParseStatus.NeedMoreData;
    }
}
