namespace Meanwhile.Http;

/// <summary>Thrown at API edges (never on the parser's hot path) when a message cannot be parsed.</summary>
/// <remarks>Named apart from <c>System.Net.Http.HttpRequestException</c>; carries the status a server should answer.</remarks>
public sealed class HttpParseException : Exception
{
    /// <summary>Wraps a parse error.</summary>
    /// <param name="error">The error the parser reported.</param>
    public HttpParseException(HttpParseError error)
        : base(error.ToString())
    {
        Error = error;
    }

    /// <summary>The error the parser reported.</summary>
    public HttpParseError Error { get; }

    /// <summary>The status code a server should answer.</summary>
    public int StatusCode => Error.StatusCode;

    /// <summary>What was wrong.</summary>
    public HttpParseErrorKind Kind => Error.Kind;
}
