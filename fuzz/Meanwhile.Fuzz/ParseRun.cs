using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Meanwhile.Http;

namespace Meanwhile.Fuzz;

/// <summary>
/// Feeds one connection's bytes to a parser in given pieces, the way the server and client loops do, checks the
/// parser's contract at every call, and describes everything that came out as text, so two runs can be compared.
/// </summary>
internal static class ParseRun
{
    // The parser copies heads into pooled buffers bounded by its limits and never copies bodies; anything
    // beyond this much allocation for one input is the "unbounded allocation" the fuzzer looks for.
    private const long MaxParserAllocationBytes = 1024 * 1024;

    /// <summary>Parses <paramref name="data"/> cut at <paramref name="cuts"/> (ascending offsets) and describes the result.</summary>
    /// <param name="parser">A fresh parser.</param>
    /// <param name="data">The bytes of the connection.</param>
    /// <param name="cuts">Where reads end, ascending, each inside <paramref name="data"/>.</param>
    /// <param name="endOfInput">Whether to tell the parser the peer closed after the last byte.</param>
    /// <param name="onComplete">Called on each complete message while its head and body are readable.</param>
    public static string Describe(HttpMessageParser parser, ReadOnlySpan<byte> data, IReadOnlyList<int> cuts, bool endOfInput, Action<byte[]>? onComplete = null)
    {
        HttpMessageHead head = HeadOf(parser);
        var text = new StringBuilder();
        var body = new ArrayBufferWriter<byte>();
        long allocated = 0;
        int calls = 0;
        int callLimit = (4 * data.Length) + 16;
        int start = 0;
        for (int piece = 0; piece <= cuts.Count; piece++)
        {
            int end = piece < cuts.Count ? cuts[piece] : data.Length;
            ReadOnlySpan<byte> rest = data[start..end];
            start = end;
            while (true)
            {
                if (++calls > callLimit)
                {
                    throw new FuzzFindingException($"no progress: more than {callLimit} parse calls for {data.Length} bytes");
                }

                long before = GC.GetAllocatedBytesForCurrentThread();
                HttpParseStatus status = parser.Parse(rest, out int consumed, out ReadOnlySpan<byte> bodyPart);
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                if (allocated > MaxParserAllocationBytes)
                {
                    throw new FuzzFindingException($"the parser allocated {allocated} bytes for {data.Length} bytes of input");
                }

                if (consumed < 0 || consumed > rest.Length)
                {
                    throw new FuzzFindingException($"consumed {consumed} of {rest.Length} bytes");
                }

                rest = rest[consumed..];
                if (status == HttpParseStatus.NeedMoreData)
                {
                    if (!rest.IsEmpty)
                    {
                        throw new FuzzFindingException("NeedMoreData left input unconsumed");
                    }

                    break;
                }

                if (status == HttpParseStatus.Error)
                {
                    return Finish(text, parser.Error);
                }

                Record(text, status, head, bodyPart, body, onComplete);
            }
        }

        if (!endOfInput)
        {
            return text.Append(parser.IsIdle ? "idle" : "partial").ToString();
        }

        HttpParseStatus last = parser.EndOfInput();
        switch (last)
        {
            case HttpParseStatus.Error:
                return Finish(text, parser.Error);
            case HttpParseStatus.MessageComplete:
                Record(text, last, head, default, body, onComplete);
                return text.Append("closed").ToString();
            case HttpParseStatus.EndOfStream:
                return text.Append("closed").ToString();
            default:
                throw new FuzzFindingException($"EndOfInput returned {last}");
        }
    }

    /// <summary>Every offset of <paramref name="length"/> bytes: one byte per read.</summary>
    public static int[] EveryByte(int length) => [.. Enumerable.Range(1, Math.Max(0, length - 1))];

    /// <summary>Cuts chosen from the data itself (so a run is reproducible from its input alone), 1 to 64 bytes apart.</summary>
    public static int[] DataDrivenCuts(ReadOnlySpan<byte> data)
    {
        var cuts = new List<int>();
        uint state = 2166136261;
        foreach (byte b in data)
        {
            state = (state ^ b) * 16777619;
        }

        int at = 0;
        while (true)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            at += 1 + (int)(state % 64);
            if (at >= data.Length)
            {
                return [.. cuts];
            }

            cuts.Add(at);
        }
    }

    private static HttpMessageHead HeadOf(HttpMessageParser parser) => parser switch
    {
        HttpRequestParser requests => requests.Head,
        HttpResponseParser responses => responses.Head,
        _ => throw new ArgumentException("unknown parser", nameof(parser)),
    };

    private static void Record(StringBuilder text, HttpParseStatus status, HttpMessageHead head, ReadOnlySpan<byte> bodyPart, ArrayBufferWriter<byte> body, Action<byte[]>? onComplete)
    {
        switch (status)
        {
            case HttpParseStatus.HeadComplete:
                body.Clear();
                DescribeHead(text, head);
                break;
            case HttpParseStatus.Body:
                if (bodyPart.IsEmpty)
                {
                    throw new FuzzFindingException("a Body event without bytes");
                }

                body.Write(bodyPart);
                break;
            case HttpParseStatus.MessageComplete:
                text.Append("body ").Append(body.WrittenCount).Append(' ')
                    .Append(Convert.ToHexString(SHA256.HashData(body.WrittenSpan))[..16]).Append('\n');
                foreach (HttpField trailer in head.Trailers)
                {
                    text.Append("trailer ").Append(Latin1(trailer.Name)).Append(": ").Append(Latin1(trailer.Value)).Append('\n');
                }

                text.Append("complete\n");
                onComplete?.Invoke(body.WrittenSpan.ToArray());
                break;
            default:
                throw new FuzzFindingException($"unexpected status {status}");
        }
    }

    private static void DescribeHead(StringBuilder text, HttpMessageHead head)
    {
        if (head is HttpRequestHead request)
        {
            text.Append("request ").Append(Latin1(request.Method)).Append(' ').Append(Latin1(request.Target))
                .Append(' ').Append(request.TargetForm);
        }
        else if (head is HttpResponseHead response)
        {
            text.Append("response ").Append(response.StatusCode).Append(' ').Append(Latin1(response.ReasonPhrase));
        }

        text.Append(' ').Append(head.Version).Append(' ').Append(head.Framing).Append(" length=").Append(head.ContentLength)
            .Append(" keepalive=").Append(head.KeepAlive).Append('\n');
        foreach (HttpField field in head.Fields)
        {
            text.Append("field ").Append(Latin1(field.Name)).Append(": ").Append(Latin1(field.Value)).Append('\n');
        }
    }

    private static string Finish(StringBuilder text, HttpParseError error)
    {
        if (!error.IsError || error.StatusCode is not (400 or 413 or 414 or 431 or 501 or 505))
        {
            throw new FuzzFindingException($"error {error.Kind} with status {error.StatusCode}");
        }

        return text.Append("error ").Append(error.Kind).Append(' ').Append(error.StatusCode).ToString();
    }

    internal static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}
