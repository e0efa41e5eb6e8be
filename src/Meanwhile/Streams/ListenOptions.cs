namespace Meanwhile;

/// <summary>Options of a listening socket.</summary>
public sealed record ListenOptions
{
    /// <summary>Defaults: backlog 511, SO_REUSEADDR on, SO_REUSEPORT off.</summary>
    public static ListenOptions Default { get; } = new();

    /// <summary>Connections the kernel queues before they are accepted. Default: 511 (nginx's).</summary>
    public int Backlog { get; init; } = 511;

    /// <summary>SO_REUSEADDR: rebind a port that still has connections in TIME_WAIT. Default: true.</summary>
    public bool ReuseAddress { get; init; } = true;

    /// <summary>SO_REUSEPORT: several listeners (one per loop) on the same port, the kernel spreading connections. Default: false.</summary>
    public bool ReusePort { get; init; }

    /// <summary>Options applied to each accepted connection.</summary>
    public SocketStreamOptions Accepted { get; init; } = SocketStreamOptions.Default;
}
