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
