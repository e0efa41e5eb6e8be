using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile.Http.Client;

/// <summary>How a <see cref="LoopHttpClient"/> connects, pools, times out and follows redirects. Immutable once built.</summary>
public sealed record LoopHttpClientOptions
{
    /// <summary>The defaults.</summary>
    public static LoopHttpClientOptions Default { get; } = new();

    /// <summary>Most connections open at once to one origin (scheme, host, port); further requests queue. Default: 6, as browsers do.</summary>
    public int MaxConnectionsPerOrigin { get; init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least one connection."); } = 6;

    /// <summary>
    /// Most requests in flight on one connection: 1 (the default) turns pipelining off. Above 1, idempotent
    /// requests without a body may be sent before earlier responses arrived, once every allowed connection is open.
    /// </summary>
    public int MaxPipelineDepth { get; init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least one request."); } = 1;

    /// <summary>How long establishing a connection (name resolution and TLS handshake included) may take. Default: 10 s; null for no limit.</summary>
    public TimeSpan? ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the response head may take once the request is sent. Default: null (only <see cref="RequestTimeout"/> applies).</summary>
    public TimeSpan? ResponseHeadersTimeout { get; init; }

    /// <summary>How long a whole exchange may take, from the call until the response body is read. Default: 100 s; null for no limit.</summary>
    public TimeSpan? RequestTimeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>How long to wait for <c>100 Continue</c> before sending a body announced with <c>Expect: 100-continue</c>. Default: 1 s.</summary>
    public TimeSpan ExpectContinueTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Redirects followed before <see cref="LoopHttpErrorKind.TooManyRedirects"/>; 0 returns redirect responses as they are. Default: 10.</summary>
    public int MaxRedirects { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Cannot be negative."); } = 10;

    /// <summary>Send <c>Accept-Encoding: gzip, deflate, br</c> (unless the request sets its own) and decode such responses. Default: true.</summary>
    public bool AutomaticDecompression { get; init; } = true;

    /// <summary>The <c>User-Agent</c> sent unless the request sets one; null sends none.</summary>
    public string? UserAgent { get; init; } = "Meanwhile/0.1";

    /// <summary>
    /// Certificates trusted as roots for HTTPS in place of the system store (e.g. a private CA); null trusts the
    /// system store. The host name must still match the server certificate.
    /// </summary>
    public X509Certificate2Collection? TrustedRootCertificates { get; init; }

    /// <summary>Replaces certificate validation entirely (both the system store and <see cref="TrustedRootCertificates"/>); null keeps it on.</summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; init; }

    /// <summary>Size of the read buffer a connection rents while a response arrives. Default: 16 KiB.</summary>
    public int ReceiveBufferSize { get; init => field = value >= 512 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least 512 bytes."); } = 16 * 1024;

    /// <summary>Limits on response heads (and bodies) the parser accepts. Default: <c>HttpParserLimits.Responses</c>.</summary>
    public HttpParserLimits ParserLimits { get; init; } = HttpParserLimits.Responses;
}
