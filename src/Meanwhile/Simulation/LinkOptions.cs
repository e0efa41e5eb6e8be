namespace Meanwhile;

/// <summary>
/// How a simulated link between two hosts behaves, in both directions. Losses on a stream (TCP) link are recovered by
/// retransmission, as TCP does: they cost time, never data. Datagrams (UDP) are simply lost, duplicated or reordered.
/// </summary>
public sealed record LinkOptions
{
    /// <summary>The defaults: 1 ms fixed latency, unlimited bandwidth, nothing lost, duplicated or reordered.</summary>
    public static LinkOptions Default { get; } = new();

    /// <summary>How long each packet takes to cross. Default: 1 ms fixed.</summary>
    public LatencyDistribution Latency { get; init; } = LatencyDistribution.Fixed(TimeSpan.FromMilliseconds(1));

    /// <summary>Bytes per second each direction carries (a packet waits for the ones before it to go out); 0: unlimited.</summary>
    public long BandwidthBytesPerSecond
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Zero (unlimited) or more.");
    }

    /// <summary>The probability that a packet is lost (a stream segment is then sent again after the retransmission timeout).</summary>
    public double Loss { get; init => field = CheckProbability(value); }

    /// <summary>The probability that a datagram arrives twice.</summary>
    public double Duplication { get; init => field = CheckProbability(value); }

    /// <summary>The probability that a datagram is held back behind later ones (it takes up to three latencies).</summary>
    public double Reordering { get; init => field = CheckProbability(value); }

    private static double CheckProbability(double value) =>
        value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A probability, between 0 and 1.");
}
