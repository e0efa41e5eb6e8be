namespace Meanwhile.Http;

/// <summary>
/// The parsed head of a message, kept as the raw bytes received: version, header fields in arrival order
/// (names as sent, values trimmed), the trailer fields after a chunked body, and what they imply for
/// framing and the connection.
/// </summary>
/// <remarks>
/// Owned by its parser and reused for the next message, so it allocates nothing per message; it stays
/// valid until the parser is asked to parse the next message (or releases its buffers).
/// </remarks>
public abstract class HttpMessageHead
{
    private protected HttpMessageHead(HeadStore store)
    {
        Store = store;
        Facts.Reset();
    }

    internal HeadStore Store { get; }

    internal FieldFacts Facts;

    internal Segment VersionSegment { get; set; }

    /// <summary>The protocol version, as understood by the parser.</summary>
    public HttpProtocolVersion Version { get; internal set; }

    /// <summary>The HTTP-version exactly as received, e.g. <c>HTTP/1.1</c>.</summary>
    public ReadOnlySpan<byte> VersionBytes => Store[VersionSegment];

    /// <summary>The header section's field lines, in arrival order.</summary>
    public HttpFieldList Fields => new(Store, 0, Store.HeaderCount);

    /// <summary>The trailer section's field lines (after a chunked body), kept apart from <see cref="Fields"/>.</summary>
    public HttpFieldList Trailers => new(Store, Store.HeaderCount, Store.TrailerCount);

    /// <summary>How the body is delimited.</summary>
    public HttpBodyFraming Framing { get; internal set; }

    /// <summary>The Content-Length value, or -1 when the message did not send one.</summary>
    public long ContentLength => Facts.ContentLength;

    /// <summary>True when Transfer-Encoding named a coding besides chunked (a client decodes it; a server refuses it with 501).</summary>
    public bool HasOtherTransferCoding => Facts.OtherCoding;

    /// <summary>True when Connection lists <c>upgrade</c>; a server that speaks no other protocol ignores it (RFC 9110 7.8).</summary>
    public bool ConnectionUpgrade => Facts.ConnectionUpgrade;

    /// <summary>
    /// True when Connection lists an option besides <c>close</c>, <c>keep-alive</c> and <c>upgrade</c>: the fields it
    /// names are hop-by-hop (RFC 9110 7.6.1), which a proxy must not forward; false for almost every message.
    /// </summary>
    public bool ConnectionNamesOtherOptions => Facts.ConnectionOther;

    /// <summary>
    /// Whether the connection stays open after this message (RFC 9112 9.3): HTTP/1.1 unless Connection lists
    /// <c>close</c>; HTTP/1.0 only when it lists <c>keep-alive</c>; never when the body runs until close.
    /// </summary>
    public bool KeepAlive
    {
        get
        {
            if (Facts.ConnectionClose || Framing == HttpBodyFraming.UntilClose)
            {
                return false;
            }

            return Version == HttpProtocolVersion.Http11 || Facts.ConnectionKeepAlive;
        }
    }

    /// <summary>The whole head as received (start line, header field lines and their CRLFs), for logs and tests.</summary>
    public ReadOnlySpan<byte> RawBytes => Store.Slice(0, HeadLength);

    internal int HeadLength { get; set; }

    internal virtual void Reset()
    {
        Facts.Reset();
        Framing = HttpBodyFraming.None;
        Version = HttpProtocolVersion.Http11;
        VersionSegment = default;
        HeadLength = 0;
    }
}
