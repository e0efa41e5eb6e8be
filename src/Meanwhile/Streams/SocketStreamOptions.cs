namespace Meanwhile;

/// <summary>Options of a connected TCP or Unix stream socket.</summary>
public sealed record SocketStreamOptions
{
    /// <summary>Defaults: TCP_NODELAY on, no keep-alive, no connect timeout.</summary>
    public static SocketStreamOptions Default { get; } = new();

    /// <summary>Disable Nagle's algorithm (TCP_NODELAY), so small writes leave at once. Default: true.</summary>
    public bool NoDelay { get; init; } = true;

    /// <summary>Send TCP keep-alive probes on an idle connection. Default: false.</summary>
    public bool KeepAlive { get; init; }

    /// <summary>Idle time before the first keep-alive probe (TCP_KEEPIDLE); null for the system's default.</summary>
    public TimeSpan? KeepAliveIdle { get; init; }

    /// <summary>Time between keep-alive probes (TCP_KEEPINTVL); null for the system's default.</summary>
    public TimeSpan? KeepAliveInterval { get; init; }

    /// <summary>Unanswered probes before the connection is dropped (TCP_KEEPCNT); null for the system's default.</summary>
    public int? KeepAliveProbes { get; init; }

    /// <summary>How long a connect may take, name resolution included; null for no limit but the kernel's.</summary>
    public TimeSpan? ConnectTimeout { get; init; }
}
