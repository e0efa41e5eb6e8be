namespace Meanwhile.Http;

/// <summary>The client side: parses responses, one per request sent, from the bytes of one connection.</summary>
/// <remarks>
/// Whether a response has a body depends on the request (HEAD, CONNECT), so the caller names the request
/// method with <see cref="SetRequestMethod"/> before each final response. A body delimited by the close of
/// the connection ends when the caller calls <see cref="HttpMessageParser.EndOfInput"/>.
/// </remarks>
public sealed class HttpResponseParser : HttpMessageParser
{
    private bool _requestWasHead;
    private bool _requestWasConnect;

    /// <summary>Creates a parser for one connection.</summary>
    /// <param name="limits">Limits to enforce; <see cref="HttpParserLimits.Responses"/> when null.</param>
    public HttpResponseParser(HttpParserLimits? limits = null)
        : this(limits ?? HttpParserLimits.Responses, new HttpResponseHead(new HeadStore()))
    {
    }

    private HttpResponseParser(HttpParserLimits limits, HttpResponseHead head)
        : base(limits, head)
    {
        Head = head;
    }

    /// <summary>The head of the current response, complete once <see cref="HttpParseStatus.HeadComplete"/> was returned.</summary>
    public HttpResponseHead Head { get; }

    private protected override bool IsRequest => false;

    private protected override HttpParseErrorKind StartLineErrorKind => HttpParseErrorKind.InvalidStatusLine;

    /// <summary>Names the method of the request the next responses answer; it stays in effect until changed.</summary>
    /// <param name="method">The request method, e.g. <c>"HEAD"u8</c>.</param>
    public void SetRequestMethod(ReadOnlySpan<byte> method)
    {
        _requestWasHead = method.SequenceEqual("HEAD"u8);
        _requestWasConnect = method.SequenceEqual("CONNECT"u8);
    }

    private protected override HttpParseError ParseStartLine(ReadOnlySpan<byte> line, int offset) => StatusLine.Parse(line, offset, Head);

    private protected override HttpParseError CompleteHead()
    {
        int status = Head.StatusCode;

        // RFC 9112 6.3 items 1 and 2: these responses end with their head, whatever their fields say.
        if (Head.IsInterim || status == 204 || status == 304 || _requestWasHead || (_requestWasConnect && status is >= 200 and < 300))
        {
            Head.Framing = HttpBodyFraming.None;
            return default;
        }

        ref FieldFacts facts = ref Head.Facts;
        if (facts.HasTransferEncoding)
        {
            // RFC 9112 6.3 item 3 lets Transfer-Encoding win, but a response carrying both is what response
            // splitting looks like, so it is refused.
            if (facts.ContentLength >= 0)
            {
                return new HttpParseError(HttpParseErrorKind.ConflictingFraming, "both Transfer-Encoding and Content-Length");
            }

            if (Head.Version == HttpProtocolVersion.Http10)
            {
                return new HttpParseError(HttpParseErrorKind.InvalidTransferEncoding, "Transfer-Encoding in an HTTP/1.0 response");
            }

            // RFC 9112 6.3 item 4: chunked not last means the body runs until the connection closes.
            Head.Framing = facts.ChunkedLast ? HttpBodyFraming.Chunked : HttpBodyFraming.UntilClose;
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

        Head.Framing = HttpBodyFraming.UntilClose;
        return default;
    }
}
