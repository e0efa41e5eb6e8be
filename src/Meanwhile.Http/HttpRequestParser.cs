namespace Meanwhile.Http;

/// <summary>The server side: parses requests, message after message, from the bytes of one connection.</summary>
/// <remarks>
/// Purely syntax and framing (RFC 9112). Server choices that go beyond syntax, such as refusing CONNECT,
/// live in <see cref="HttpRequestPolicy"/>, applied after <see cref="HttpParseStatus.HeadComplete"/>.
/// </remarks>
public sealed class HttpRequestParser : HttpMessageParser
{
    /// <summary>Creates a parser for one connection.</summary>
    /// <param name="limits">Limits to enforce; <see cref="HttpParserLimits.Requests"/> when null.</param>
    public HttpRequestParser(HttpParserLimits? limits = null)
        : this(limits ?? HttpParserLimits.Requests, new HttpRequestHead(new HeadStore()))
    {
    }

    private HttpRequestParser(HttpParserLimits limits, HttpRequestHead head)
        : base(limits, head)
    {
        Head = head;
    }

    /// <summary>The head of the current request, complete once <see cref="HttpParseStatus.HeadComplete"/> was returned.</summary>
    public HttpRequestHead Head { get; }

    private protected override bool IsRequest => true;

    private protected override HttpParseErrorKind StartLineErrorKind => HttpParseErrorKind.InvalidRequestLine;

    private protected override HttpParseError ParseStartLine(ReadOnlySpan<byte> line, int offset) => RequestLine.Parse(line, offset, Head);

    private protected override HttpParseError CompleteHead()
    {
        ref FieldFacts facts = ref Head.Facts;
        if (Head.Version == HttpProtocolVersion.Http11 && facts.HostCount == 0)
        {
            return new HttpParseError(HttpParseErrorKind.InvalidHost, "missing Host header field");
        }

        if (facts.HasTransferEncoding)
        {
            // RFC 9112 6.1 and 6.3: each of these leaves the body length unknowable, which is how requests get smuggled.
            if (facts.ContentLength >= 0)
            {
                return new HttpParseError(HttpParseErrorKind.ConflictingFraming, "both Transfer-Encoding and Content-Length");
            }

            if (Head.Version == HttpProtocolVersion.Http10)
            {
                return new HttpParseError(HttpParseErrorKind.InvalidTransferEncoding, "Transfer-Encoding in an HTTP/1.0 request");
            }

            if (!facts.ChunkedLast)
            {
                return new HttpParseError(HttpParseErrorKind.InvalidTransferEncoding, "chunked is not the final transfer coding");
            }

            if (facts.OtherCoding)
            {
                return new HttpParseError(HttpParseErrorKind.UnsupportedTransferCoding, "transfer coding not implemented");
            }

            Head.Framing = HttpBodyFraming.Chunked;
            return default;
        }

        if (facts.ContentLength >= 0)
        {
            if (facts.ContentLength > Limits.MaxBodyBytes)
            {
                return new HttpParseError(HttpParseErrorKind.BodyTooLarge, "Content-Length larger than the body limit");
            }

            Head.Framing = HttpBodyFraming.ContentLength;
            return default;
        }

        // A request without either field has no body (RFC 9112 6.3 item 7).
        Head.Framing = HttpBodyFraming.None;
        return default;
    }
}
