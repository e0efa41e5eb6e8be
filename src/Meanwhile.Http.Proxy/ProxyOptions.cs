namespace Meanwhile.Http.Proxy;

/// <summary>Where a <see cref="ProxyHandler"/> forwards, how it picks, how long it waits and what it adds. Immutable once built; one instance serves every loop.</summary>
public sealed record ProxyOptions
{
    /// <summary>The upstream servers, as <c>http://host:port</c> (no path, no TLS yet). At least one.</summary>
    public required IReadOnlyList<Uri> Upstreams
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Count == 0) throw new ArgumentException("At least one upstream.", nameof(value));
            foreach (var uri in value)
            {
                if (!uri.IsAbsoluteUri || uri.Scheme != Uri.UriSchemeHttp)
                    throw new ArgumentException($"An upstream is an absolute http URI such as http://127.0.0.1:8080, not '{uri}'.", nameof(value));
                if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
                    throw new ArgumentException($"An upstream is a scheme, host and port; '{uri}' has a path or query, which the proxy does not prefix.", nameof(value));
            }
            field = value;
        }
    }

    /// <summary>How an upstream is picked for each request. Default: <see cref="ProxyBalancing.RoundRobin"/>.</summary>
    public ProxyBalancing Balancing { get; init; }

    /// <summary>How long connecting to an upstream may take; past it the client gets 502 (or the request goes to the next upstream). Default: 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the upstream may take to send the response head once the request is sent; past it the client gets 504. Default: 60 s (nginx's <c>proxy_read_timeout</c>).</summary>
    public TimeSpan ResponseHeadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long one read or write of a body (either way) may wait on the upstream; past it the exchange ends: 504 if the
    /// response has not started, a cut response otherwise. Default: 60 s.
    /// </summary>
    public TimeSpan BodyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long an <c>Upgrade</c> tunnel (a WebSocket, after the upstream's 101) may pass no byte either way before both
    /// its connections are closed. Default: 60 s (nginx's <c>proxy_read_timeout</c>, which its tunnels use); raise it
    /// for protocols that stay quiet longer without pinging.
    /// </summary>
    public TimeSpan TunnelIdleTimeout { get; init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value)); } = TimeSpan.FromSeconds(60);

    /// <summary>Idle keep-alive connections kept per upstream on each loop; more are closed when they come back. Default: 64.</summary>
    public int MaxIdleConnectionsPerUpstream { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value)); } = 64;

    /// <summary>How long an idle upstream connection is kept before it is closed. Default: 30 s.</summary>
    public TimeSpan IdleConnectionTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Send the client's Host to the upstream (true) or the upstream's own authority (false, nginx's default). Default: false.</summary>
    public bool PreserveHost { get; init; }

    /// <summary>The fields added on the way through. Default: <see cref="ForwardedHeaders.All"/>.</summary>
    public ForwardedHeaders ForwardedHeaders { get; init; } = ForwardedHeaders.All;

    /// <summary>The name in <c>Via</c> (a token or host). Default: <c>meanwhile</c>.</summary>
    public string ViaName { get; init; } = "meanwhile";

    /// <summary>Failures in a row (refused, reset, timed out, a bad head) after which an upstream is skipped for <see cref="FailureQuarantine"/>. Default: 3.</summary>
    public int MaxFailures { get; init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value)); } = 3;

    /// <summary>How long an upstream that failed <see cref="MaxFailures"/> times is skipped. Default: 10 s.</summary>
    public TimeSpan FailureQuarantine { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Upstreams tried for one idempotent request that failed before any response byte came. Default: 2.</summary>
    public int MaxAttempts { get; init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value)); } = 2;

    /// <summary>
    /// A path such as <c>/healthz</c> to GET on every upstream each <see cref="HealthProbeInterval"/> (from each loop):
    /// a 2xx or 3xx within <see cref="ConnectTimeout"/> puts a skipped upstream back at once, anything else skips it for
    /// <see cref="FailureQuarantine"/>. Null (the default) probes nothing.
    /// </summary>
    public string? HealthProbePath { get; init; }

    /// <summary>How often the active probe runs. Default: 5 s.</summary>
    public TimeSpan HealthProbeInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The scheme sent in <c>X-Forwarded-Proto</c>. Default: <c>http</c>.</summary>
    public string ClientScheme { get; init; } = "http";
}
