namespace Meanwhile.Http;

/// <summary>
/// What the framing and connection fields of a header section said, gathered while the fields arrive so the
/// head is judged without a second pass over it.
/// </summary>
internal struct FieldFacts
{
    /// <summary>The Content-Length value, or -1 when absent.</summary>
    internal long ContentLength;

    /// <summary>Host field lines seen.</summary>
    internal int HostCount;

    /// <summary>A Transfer-Encoding field line was seen (even an empty one).</summary>
    internal bool HasTransferEncoding;

    /// <summary>chunked appeared among the transfer codings.</summary>
    internal bool ChunkedSeen;

    /// <summary>The last transfer coding seen so far is chunked.</summary>
    internal bool ChunkedLast;

    /// <summary>A coding other than chunked was named.</summary>
    internal bool OtherCoding;

    /// <summary>Connection: close was listed.</summary>
    internal bool ConnectionClose;

    /// <summary>Connection: keep-alive was listed.</summary>
    internal bool ConnectionKeepAlive;

    /// <summary>Connection: upgrade was listed.</summary>
    internal bool ConnectionUpgrade;

    /// <summary>Connection listed an option besides close, keep-alive and upgrade (a field name, for a proxy to drop).</summary>
    internal bool ConnectionOther;

    /// <summary>Expect listed 100-continue.</summary>
    internal bool ExpectContinue;

    internal void Reset() => this = new FieldFacts { ContentLength = -1 };
}
