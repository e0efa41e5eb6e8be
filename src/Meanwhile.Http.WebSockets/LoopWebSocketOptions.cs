using System.Net.Security;
using System.Runtime.CompilerServices;

namespace Meanwhile.Http.WebSockets;

/// <summary>How a <see cref="LoopWebSocket"/> behaves: limits, keep-alive and timeouts, subprotocols, compression; and, for clients, how to connect.</summary>
/// <remarks>Immutable once built; one instance may serve every connection of a server, on every loop.</remarks>
public sealed record LoopWebSocketOptions
{
    // Per options instance (by reference, so a copy made with `with` gets queues of its own) and per loop.
    private static readonly ConditionalWeakTable<LoopWebSocketOptions, ConditionalWeakTable<EventLoop, KeepAliveQueues>> QueuesByOptions = new();

    /// <summary>The defaults: 1 MiB messages, no keep-alive ping, no idle timeout, 5 s to finish a close handshake, permessage-deflate.</summary>
    public static LoopWebSocketOptions Default { get; } = new();

    /// <summary>
    /// The largest message accepted, in bytes (after decompression). A frame whose declared length would take its message
    /// past it is refused at once with 1009, before any of it is read. Default 1 MiB.
    /// </summary>
    public long MaxMessageBytes { get; init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least one byte."); } = 1024 * 1024;

    /// <summary>When nothing has been received for this long, send a ping (a live peer answers with a pong). Null (default): never.</summary>
    public TimeSpan? KeepAliveInterval { get; init => field = value is null || value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Positive or null."); }

    /// <summary>When nothing has been received for this long, close with 1001 (going away). Null (default): never.</summary>
    /// <remarks>Received means read by a receive call: a connection whose application stops receiving looks idle.</remarks>
    public TimeSpan? IdleTimeout { get; init => field = value is null || value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Positive or null."); }

    /// <summary>How long to wait for the peer's part of a closing (its close frame, its TCP close) before cutting the connection. Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Positive."); } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Subprotocols: on a server, the ones it speaks, in its order of preference (the first one the client offered is
    /// chosen; none is chosen when the client offered none of them); on a client, the ones it offers.
    /// </summary>
    public IReadOnlyList<string> SubProtocols { get; init; } = [];

    /// <summary>
    /// permessage-deflate (RFC 7692): on a client, offered; on a server, accepted when a client offers it. Null: this
    /// side neither offers nor accepts it. Default <see cref="PerMessageDeflateOptions.Default"/>.
    /// </summary>
    public PerMessageDeflateOptions? Compression { get; init; } = PerMessageDeflateOptions.Default;

    /// <summary>The size of the read buffer rented while bytes are being received (never held while idle). Default 4 KiB.</summary>
    public int ReceiveBufferBytes { get; init => field = value >= 256 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least 256 bytes."); } = 4096;

    /// <summary>Client: the time allowed for connecting, TLS and the opening handshake. Default 30 s.</summary>
    public TimeSpan HandshakeTimeout { get; init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Positive."); } = TimeSpan.FromSeconds(30);

    /// <summary>Client: more header fields for the opening request (Origin, Authorization, cookies...).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> RequestHeaders { get; init; } = [];

    /// <summary>Client, wss://: decides whether the server's certificate is trusted; null for the system's trust.</summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; init; }

    /// <summary>The keep-alive deadline queues of <paramref name="loop"/> for these options; null when neither timer is set.</summary>
    internal KeepAliveQueues? QueuesFor(EventLoop loop)
    {
        if (KeepAliveInterval is null && IdleTimeout is null) return null;
        return QueuesByOptions.GetValue(this, static _ => new()).GetValue(loop, l => new KeepAliveQueues(l, KeepAliveInterval, IdleTimeout));
    }
}
