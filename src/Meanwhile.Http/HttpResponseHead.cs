namespace Meanwhile.Http;

/// <summary>The parsed head of a response: version, status code and reason phrase as received, plus the header fields.</summary>
public sealed class HttpResponseHead : HttpMessageHead
{
    internal HttpResponseHead(HeadStore store)
        : base(store)
    {
    }

    internal Segment ReasonSegment { get; set; }

    /// <summary>The three-digit status code.</summary>
    public int StatusCode { get; internal set; }

    /// <summary>The reason phrase as received (possibly empty); clients should not rely on it (RFC 9112 4).</summary>
    public ReadOnlySpan<byte> ReasonPhrase => Store[ReasonSegment];

    /// <summary>True for a 1xx interim response: the final response follows on the same connection.</summary>
    public bool IsInterim => StatusCode is >= 100 and < 200;

    internal override void Reset()
    {
        base.Reset();
        ReasonSegment = default;
        StatusCode = 0;
    }
}
