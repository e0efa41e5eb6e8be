using Meanwhile.Http;

namespace Meanwhile.Http.Client;

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
