namespace Meanwhile.Http;

/// <summary>The four shapes of request-target RFC 9112 3.2 defines; a server routes differently on each.</summary>
public enum HttpRequestTargetForm : byte
{
    /// <summary><c>/path?query</c>: the usual form sent to an origin server.</summary>
    Origin = 0,

    /// <summary><c>http://host/path</c>: sent to proxies, and accepted by origin servers.</summary>
    Absolute = 1,

    /// <summary><c>host:port</c>: only with CONNECT.</summary>
    Authority = 2,

    /// <summary><c>*</c>: only with OPTIONS, meaning the server as a whole.</summary>
    Asterisk = 3,
}
