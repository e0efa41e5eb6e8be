namespace Meanwhile.Http;

/// <summary>The parsed head of a request: method, request-target and version as received, plus the header fields.</summary>
public sealed class HttpRequestHead : HttpMessageHead
{
    internal HttpRequestHead(HeadStore store)
        : base(store)
    {
    }

    internal Segment MethodSegment { get; set; }

    internal Segment TargetSegment { get; set; }

    /// <summary>The method token exactly as received (methods are case-sensitive, RFC 9110 9.1).</summary>
    public ReadOnlySpan<byte> Method => Store[MethodSegment];

    /// <summary>The request-target exactly as received: no decoding, no normalization.</summary>
    public ReadOnlySpan<byte> Target => Store[TargetSegment];

    /// <summary>Which request-target form was used.</summary>
    public HttpRequestTargetForm TargetForm { get; internal set; }

    /// <summary>True for HEAD, whose response carries no content (RFC 9110 9.3.2).</summary>
    public bool IsHead => Method.SequenceEqual("HEAD"u8);

    /// <summary>True when the client sent <c>Expect: 100-continue</c> in HTTP/1.1 and waits for a 100 before sending its body (HTTP/1.0 expectations are ignored, RFC 9110 10.1.1).</summary>
    public bool ExpectsContinue => Facts.ExpectContinue && Version == HttpProtocolVersion.Http11;

    /// <summary>True when the request has body content to read: chunked, or a Content-Length above zero.</summary>
    public bool HasBody => Framing == HttpBodyFraming.Chunked || (Framing == HttpBodyFraming.ContentLength && ContentLength > 0);

    /// <summary>True when <see cref="Method"/> is exactly <paramref name="method"/>.</summary>
    /// <param name="method">An uppercase method name such as <c>"GET"u8</c>.</param>
    /// <returns>Whether they are equal (case-sensitive, as RFC 9110 9.1 says).</returns>
    public bool MethodIs(ReadOnlySpan<byte> method) => Method.SequenceEqual(method);

    internal override void Reset()
    {
        base.Reset();
        MethodSegment = default;
        TargetSegment = default;
        TargetForm = HttpRequestTargetForm.Origin;
    }
}
