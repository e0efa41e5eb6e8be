using System.Numerics;

namespace Meanwhile.Cli;

/// <summary>
/// Latencies in a log-bucketed histogram, HdrHistogram-style: values below 128 ns have a bucket each; above, each
/// power of two is split into 64 equal buckets, so any value is known within 1/64 (1.6 %) with a fixed 30 KB of
/// counters, whatever the range, and recording is a shift and an increment.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBits = 6;                 // 64 buckets per power of two
    private const int Half = 1 << SubBits;         // 64
    private const int Linear = Half * 2;           // values below 128 are exact
    private readonly long[] _counts = new long[Linear + (64 - SubBits - 1) * Half];

    /// <summary>Values recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The largest value recorded, exactly.</summary>
    public long Max { get; private set; }

    /// <summary>The smallest value recorded, exactly (0 when empty).</summary>
    public long Min => Count == 0 ? 0 : _min;

    private long _min = long.MaxValue;
    private double _sum;

    /// <summary>The mean, exactly.</summary>
    public double Mean => Count == 0 ? 0 : _sum / Count;

    /// <summary>Records one value (nanoseconds, say); negative values count as 0.</summary>
    public void Record(long value)
    {
        if (value < 0) value = 0;
        _counts[IndexOf(value)]++;
        Count++;
        _sum += value;
        if (value > Max) Max = value;
        if (value < _min) _min = value;
    }

    /// <summary>Adds every value of <paramref name="other"/>.</summary>
    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        Count += other.Count;
        _sum += other._sum;
        Max = Math.Max(Max, other.Max);
        _min = Math.Min(_min, other._min);
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0-100): the highest value of the bucket holding that rank, as
    /// HdrHistogram reports it, never above the recorded maximum.
    /// </summary>
    public long ValueAt(double percentile)
    {
        if (Count == 0) return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return Math.Min(HighestIn(i), Max);
        }
        return Max;
    }

    internal static int IndexOf(long value)
    {
        if (value < Linear) return (int)value;
        int msb = 63 - BitOperations.LeadingZeroCount((ulong)value); // >= 7
        int shift = msb - SubBits;                                   // >= 1
        int mantissa = (int)(value >> shift);                        // in [64, 128)
        return Linear + (shift - 1) * Half + (mantissa - Half);
    }

    internal static long HighestIn(int index)
    {
        if (index < Linear) return index;
        int shift = (index - Linear) / Half + 1;
        long mantissa = (index - Linear) % Half + Half;
        return ((mantissa + 1) << shift) - 1;
    }
}
