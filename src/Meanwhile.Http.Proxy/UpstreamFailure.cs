namespace Meanwhile.Http.Proxy;

/// <summary>How an exchange with an upstream failed, which decides the client's status, the words of its body, and whether another upstream may be tried.</summary>
internal enum UpstreamFailureKind
{
    /// <summary>Refused, unreachable, a name that does not resolve: 502.</summary>
    ConnectFailed,

    /// <summary>No connection within the connect timeout: 504.</summary>
    ConnectTimedOut,

    /// <summary>The request could not be written (reset, closed): 502.</summary>
    SendFailed,

    /// <summary>The connection closed or reset before a response head: 502.</summary>
    ClosedBeforeResponse,

    /// <summary>No response head within the head timeout: 504.</summary>
    ResponseHeadTimedOut,

    /// <summary>The head was not valid HTTP/1.1 (or asked to switch protocols): 502.</summary>
    InvalidResponse,

    /// <summary>The body stalled past the body timeout: 504 before the response started, a cut response after.</summary>
    BodyTimedOut,

    /// <summary>The body was cut short or malformed: 502 before the response started, a cut response after.</summary>
    BodyFailed,
}

/// <summary>An exchange with an upstream failed; carries what the proxy needs to answer or retry.</summary>
internal sealed class UpstreamException(UpstreamFailureKind kind, Upstream upstream, bool responseStarted, Exception? inner = null)
    : IOException(Describe(kind, upstream, inner), inner)
{
    public UpstreamFailureKind Kind { get; } = kind;

    /// <summary>True once a byte of the response came: the request may have been acted upon, and it is never sent again.</summary>
    public bool ResponseStarted { get; } = responseStarted;

    public int StatusCode => Kind is UpstreamFailureKind.ConnectTimedOut or UpstreamFailureKind.ResponseHeadTimedOut or UpstreamFailureKind.BodyTimedOut ? 504 : 502;

    /// <summary>The few words the client's body says: which step failed, never the upstream's address.</summary>
    public string Reason => Kind switch
    {
        UpstreamFailureKind.ConnectFailed => "upstream connect failed",
        UpstreamFailureKind.ConnectTimedOut => "upstream connect timeout",
        UpstreamFailureKind.SendFailed => "upstream closed the connection while the request was sent",
        UpstreamFailureKind.ClosedBeforeResponse => "upstream closed the connection before responding",
        UpstreamFailureKind.ResponseHeadTimedOut => "upstream response header timeout",
        UpstreamFailureKind.InvalidResponse => "upstream sent an invalid response",
        UpstreamFailureKind.BodyTimedOut => "upstream body timeout",
        _ => "upstream response body failed",
    };

    private static string Describe(UpstreamFailureKind kind, Upstream upstream, Exception? inner) =>
        $"{upstream.Name}: {kind}{(inner is null ? "" : $" ({inner.Message})")}";
}
