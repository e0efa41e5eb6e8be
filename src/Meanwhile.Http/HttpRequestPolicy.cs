namespace Meanwhile.Http;

/// <summary>
/// What an origin server refuses among requests that are valid HTTP: decisions of policy, not syntax, so
/// they live apart from the parser. A server applies it once per request, after the head is complete.
/// </summary>
public sealed class HttpRequestPolicy
{
    /// <summary>The policy of an origin server that is not a proxy: CONNECT refused.</summary>
    public static HttpRequestPolicy OriginServer { get; } = new();

    /// <summary>Whether CONNECT is accepted; false for an origin server, since a 2xx to CONNECT would open a tunnel (RFC 9110 9.3.6).</summary>
    public bool AllowConnect { get; init; }

    /// <summary>Checks a complete request head against this policy.</summary>
    /// <param name="head">The parsed head.</param>
    /// <returns>An error naming the status to answer, or <c>default</c> when the request may be processed.</returns>
    public HttpParseError Check(HttpRequestHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        if (!AllowConnect && head.MethodIs("CONNECT"u8))
        {
            return new HttpParseError(HttpParseErrorKind.MethodNotSupported, "CONNECT is not supported: this server is not a proxy");
        }

        return default;
    }
}
