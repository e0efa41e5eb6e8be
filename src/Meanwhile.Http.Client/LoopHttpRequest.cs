namespace Meanwhile.Http.Client;

/// <summary>
/// A request to send with <see cref="LoopHttpClient.SendAsync(LoopHttpRequest, CancellationToken)"/>: method,
/// absolute http or https URI, header fields, optional body.
/// </summary>
/// <remarks>Host, Content-Length and Transfer-Encoding are written by the client from the URI and the body; setting them here is refused.</remarks>
public sealed class LoopHttpRequest
{
    /// <summary>Creates a request.</summary>
    /// <param name="method">The method token, e.g. <c>GET</c>.</param>
    /// <param name="uri">An absolute http or https URI.</param>
    public LoopHttpRequest(string method, Uri uri)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Only absolute http and https URIs can be requested, not '{uri}'.", nameof(uri));
        }

        Method = method;
        Uri = uri;
    }

    /// <summary>Creates a request.</summary>
    /// <param name="method">The method token.</param>
    /// <param name="uri">An absolute http or https URI.</param>
    public LoopHttpRequest(string method, string uri)
        : this(method, new Uri(uri, UriKind.Absolute))
    {
    }

    private List<KeyValuePair<string, string>>? _headers;

    /// <summary>The method token.</summary>
    public string Method { get; }

    /// <summary>The target.</summary>
    public Uri Uri { get; }

    /// <summary>Header fields to send, in order (names are tokens, values Latin-1 without CR or LF).</summary>
    public List<KeyValuePair<string, string>> Headers => _headers ??= [];

    /// <summary>The header fields to read (a request without any makes no list: this one is shared, never changed).</summary>
    internal List<KeyValuePair<string, string>> HeadersToRead => _headers ?? NoHeaders;

    private static readonly List<KeyValuePair<string, string>> NoHeaders = [];

    /// <summary>The content, or null for none.</summary>
    public RequestBody? Body { get; set; }

    /// <summary>Send <c>Expect: 100-continue</c> and hold the body back until the server agrees (or <see cref="LoopHttpClientOptions.ExpectContinueTimeout"/> passes).</summary>
    public bool ExpectContinue { get; set; }

    /// <summary>Adds a header field.</summary>
    /// <param name="name">The field name.</param>
    /// <param name="value">The field value.</param>
    /// <returns>This request, for chaining.</returns>
    public LoopHttpRequest WithHeader(string name, string value)
    {
        Headers.Add(new(name, value));
        return this;
    }

    internal bool HasHeader(string name)
    {
        if (_headers is null)
        {
            return false;
        }

        foreach (var header in _headers)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True for methods RFC 9110 9.2.2 calls idempotent: such a request may be sent again after a failure that left no response.</summary>
    internal bool IsIdempotent => Method is "GET" or "HEAD" or "OPTIONS" or "TRACE" or "PUT" or "DELETE";
}
