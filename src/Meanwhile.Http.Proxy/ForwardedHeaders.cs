namespace Meanwhile.Http.Proxy;

/// <summary>The header fields a <see cref="ProxyHandler"/> adds to say a request went through it.</summary>
[Flags]
public enum ForwardedHeaders
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary><c>Via: 1.1 name</c> appended on requests and responses (RFC 9110 7.6.3).</summary>
    Via = 1,

    /// <summary><c>X-Forwarded-For</c>: the client's address appended to any value already there.</summary>
    XForwardedFor = 2,

    /// <summary><c>X-Forwarded-Proto</c>: the scheme the client used (replaces any value the client sent).</summary>
    XForwardedProto = 4,

    /// <summary><c>X-Forwarded-Host</c>: the Host the client asked for (replaces any value the client sent).</summary>
    XForwardedHost = 8,

    /// <summary>All of the above.</summary>
    All = Via | XForwardedFor | XForwardedProto | XForwardedHost,
}
