namespace Meanwhile;

/// <summary>How a <see cref="Simulation"/> is set up.</summary>
public sealed record SimulationOptions
{
    /// <summary>When <see cref="Simulation.Run"/> gives up on the client, in virtual time. Default: 1 hour.</summary>
    public TimeSpan Deadline { get; init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The deadline must be positive."); } = TimeSpan.FromHours(1);

    /// <summary>Every link's behaviour until <see cref="Simulation.SetLink"/> changes one. Default: <see cref="LinkOptions.Default"/>.</summary>
    public LinkOptions Link { get; init; } = LinkOptions.Default;

    /// <summary>
    /// Bytes a stream socket may have sent and its peer not yet read (send buffer and peer's receive window together);
    /// a writer waits beyond it. Default: 64 KiB.
    /// </summary>
    public int SendBufferSize { get; init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least one byte."); } = 64 * 1024;

    /// <summary>A lost stream segment is sent again after this, doubling at each loss (TCP's RTO). Default: 200 ms.</summary>
    public TimeSpan RetransmissionTimeout { get; init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Must be positive."); } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Retransmissions of one segment before the connection gives up with ETIMEDOUT (a connection attempt's SYN counts
    /// from 1 s instead, as Linux's does). Default: 8.
    /// </summary>
    public int MaxRetransmissions { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Zero or more."); } = 8;

    /// <summary>Datagrams a UDP socket queues before it drops what arrives. Default: 256.</summary>
    public int DatagramQueueLength { get; init => field = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least one."); } = 256;

    /// <summary>Receives one line per traced event ("12.001000 tcp-data client:49152 -> server:80 len 73"); null: none.</summary>
    public TextWriter? TraceLog { get; init; }
}
