using Microsoft.Extensions.Logging;

namespace Meanwhile.Http.Server;

/// <summary>How an <see cref="HttpServer"/> listens, what it accepts and how long it waits for slow clients.</summary>
/// <remarks>Immutable once built (init-only), so every loop of a server shares one instance.</remarks>
public sealed record HttpServerOptions
{
    /// <summary>The address to listen on. Default: 127.0.0.1.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (see <see cref="HttpServer.Port"/>). Default: 8080.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>How many loops (threads), each with its own SO_REUSEPORT listener. Default: one per processor.</summary>
    public int Loops { get; init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least one loop."); } = Environment.ProcessorCount;

    /// <summary>Limits on request lines, header sections and bodies (414, 431, 413). Default: <see cref="HttpParserLimits.Requests"/>.</summary>
    public HttpParserLimits Limits { get; init; } = HttpParserLimits.Requests;

    /// <summary>Valid requests refused by policy (CONNECT). Default: <see cref="HttpRequestPolicy.OriginServer"/>.</summary>
    public HttpRequestPolicy Policy { get; init; } = HttpRequestPolicy.OriginServer;

    /// <summary>
    /// Time allowed for a request head, from the first byte of the request (from the accept for a connection's first
    /// request); past it the client gets 408 and the connection is closed. Default: 10 s.
    /// </summary>
    public TimeSpan RequestHeadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a keep-alive connection may wait for its next request; then it is closed silently. Default: 15 s.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The slowest request body accepted, in bytes per second of time spent waiting for body data, once
    /// <see cref="MinRequestBodyDataRateGracePeriod"/> has passed; a slower client is disconnected. 0 disables it. Default: 240 (Kestrel's).
    /// </summary>
    public double MinRequestBodyDataRate { get; init; } = 240;

    /// <summary>Waiting time for body data before <see cref="MinRequestBodyDataRate"/> is enforced. Default: 5 s.</summary>
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one flush of response bytes may wait for a client that does not read; then the connection is dropped. Default: 30 s.</summary>
    public TimeSpan ResponseWriteTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>After a final response with <c>Connection: close</c> to a client that may still be sending (it expected keep-alive, or part of its request is unread), how long its bytes are discarded before the close, so the close does not become a reset that destroys the response. A client that asked to close and was read to the end is closed at once. Default: 2 s.</summary>
    public TimeSpan LingerTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>On graceful shutdown, how long in-flight requests may take before their connections are closed. Default: 10 s.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest unread request body the server discards to keep a connection open; above it the connection closes. Default: 1 MiB.</summary>
    public long MaxDrainBytes { get; init; } = 1024 * 1024;

    /// <summary>Bytes of response body buffered before they are sent (chunked when the length is unknown); a handler's <c>WriteAsync</c> then waits for the client (backpressure). Default: 64 KiB.</summary>
    public int ResponseBufferBytes { get; init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value)); } = 64 * 1024;

    /// <summary>Size of the read buffer rented from the pool when data arrives (idle connections hold none). Default: 16 KiB.</summary>
    public int ReadBufferBytes { get; init => field = value >= 256 ? value : throw new ArgumentOutOfRangeException(nameof(value)); } = 16 * 1024;

    /// <summary>TLS: certificates, SNI, client certificates, handshake timeout; null serves plain HTTP. Default: null.</summary>
    public HttpsOptions? Https { get; init; }

    /// <summary>The value of the <c>Server</c> header; null or empty sends none. Default: none.</summary>
    public string? ServerHeader { get; init; }

    /// <summary>
    /// Where logs go. Default: warnings and errors (a handler that threw, with its request line and exception; a failed
    /// accept) to standard error, one line each; give a factory to send them elsewhere, or
    /// <c>NullLoggerFactory.Instance</c> to silence them.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The reactor of each loop. Default: <see cref="ReactorKind.Default"/> (epoll on Linux, <c>MEANWHILE_REACTOR</c> overrides).</summary>
    public ReactorKind Reactor { get; init; }

    /// <summary>The clock of each loop (a <see cref="VirtualClock"/> in tests); null for the system clock.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Test hook: where the default logger writes instead of standard error.</summary>
    internal TextWriter? DefaultLogWriter { get; init; }

    /// <summary>
    /// Whether the server's loops have diagnostics on (<see cref="EventLoopOptions.Diagnostics"/>), so that
    /// <c>meanwhile ps</c> and <c>meanwhile top</c> see them, with their connections and requests. Default: null, which
    /// leaves it to <c>MEANWHILE_DIAGNOSTICS</c>.
    /// </summary>
    public bool? Diagnostics { get; init; }

    /// <summary>Test hook: told on the loop thread each time a connection changes phase.</summary>
    internal Action<ConnectionPhase>? PhaseObserver { get; init; }

    /// <summary>Test hook: told on the loop thread +1 when a connection is accepted and -1 once it is released.</summary>
    internal Action<int>? ConnectionObserver { get; init; }
}
