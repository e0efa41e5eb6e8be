using Meanwhile.Http;

namespace Meanwhile.Http.Client;

/// <summary>What went wrong with a request, as far as a caller needs to tell failures apart.</summary>
public enum LoopHttpErrorKind
{
    /// <summary>The host name did not resolve to an address.</summary>
    NameResolution,

    /// <summary>Nothing listens at the address (ECONNREFUSED).</summary>
    ConnectionRefused,

    /// <summary>The peer reset or aborted the connection, or a write found it gone.</summary>
    ConnectionReset,

    /// <summary>The peer closed the connection before the response was complete (a body cut short, a head never finished).</summary>
    IncompleteResponse,

    /// <summary>The response broke HTTP/1.1; <see cref="LoopHttpException.ParseError"/> says what was malformed.</summary>
    MalformedResponse,

    /// <summary>The connection was not established within <see cref="LoopHttpClientOptions.ConnectTimeout"/>.</summary>
    ConnectTimeout,

    /// <summary>The response head did not arrive within <see cref="LoopHttpClientOptions.ResponseHeadersTimeout"/> of the request being sent.</summary>
    ResponseHeadersTimeout,

    /// <summary>The whole exchange, body included, did not finish within <see cref="LoopHttpClientOptions.RequestTimeout"/>.</summary>
    RequestTimeout,

    /// <summary>More redirects than <see cref="LoopHttpClientOptions.MaxRedirects"/>.</summary>
    TooManyRedirects,

    /// <summary>The TLS handshake failed, certificate validation included.</summary>
    Tls,

    /// <summary>Another failure of the connection (an errno without its own kind).</summary>
    Connection,
}

/// <summary>A request failed; <see cref="Kind"/> says how, the message says to what.</summary>
/// <remarks>
/// One exception type with a kind rather than a family of types: callers switch on <see cref="Kind"/> and still
/// find the underlying cause (a Meanwhile <see cref="SystemCallException"/>, an <c>AuthenticationException</c>)
/// in <see cref="Exception.InnerException"/>. Named apart from <c>System.Net.Http.HttpRequestException</c>.
/// </remarks>
public sealed class LoopHttpException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="kind">What went wrong.</param>
    /// <param name="uri">The request it happened to.</param>
    /// <param name="detail">A short description of what happened.</param>
    /// <param name="inner">The underlying cause, if any.</param>
    public LoopHttpException(LoopHttpErrorKind kind, Uri? uri, string detail, Exception? inner = null)
        : base($"{kind}: {detail}{(uri is null ? "" : $" ({uri})")}", inner)
    {
        Kind = kind;
        RequestUri = uri;
    }

    /// <summary>Creates a <see cref="LoopHttpErrorKind.MalformedResponse"/> error from what the parser reported.</summary>
    /// <param name="uri">The request it happened to.</param>
    /// <param name="error">What the parser found malformed.</param>
    public LoopHttpException(Uri? uri, HttpParseError error)
        : this(LoopHttpErrorKind.MalformedResponse, uri, $"malformed response, {error.Kind}: {error.Reason}")
    {
        ParseError = error;
    }

    /// <summary>What went wrong.</summary>
    public LoopHttpErrorKind Kind { get; }

    /// <summary>The request it happened to (after redirects, the one that failed).</summary>
    public Uri? RequestUri { get; }

    /// <summary>With <see cref="LoopHttpErrorKind.MalformedResponse"/> (and a cut-short response): the parser's verdict.</summary>
    public HttpParseError ParseError { get; }

    /// <summary>True for the timeout kinds.</summary>
    public bool IsTimeout => Kind is LoopHttpErrorKind.ConnectTimeout or LoopHttpErrorKind.ResponseHeadersTimeout or LoopHttpErrorKind.RequestTimeout;
}
