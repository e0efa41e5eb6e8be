namespace Meanwhile;

/// <summary>
/// How long a packet takes to cross a link: fixed, uniform between two bounds, or exponential above a minimum (a long
/// tail, as on real networks). Each packet draws its own latency from the simulation's seed.
/// </summary>
public sealed class LatencyDistribution
{
    private enum Shape : byte { Fixed, Uniform, Exponential }

    private readonly Shape _shape;
    private readonly long _minimum; // ticks
    private readonly long _spread;  // ticks: max - min (uniform) or mean - min (exponential)

    private LatencyDistribution(Shape shape, long minimum, long spread)
    {
        _shape = shape;
        _minimum = minimum;
        _spread = spread;
    }

    /// <summary>No delay at all.</summary>
    public static LatencyDistribution Zero { get; } = new(Shape.Fixed, 0, 0);

    /// <summary>Always <paramref name="latency"/>.</summary>
    /// <param name="latency">Zero or more.</param>
    public static LatencyDistribution Fixed(TimeSpan latency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        return new(Shape.Fixed, latency.Ticks, 0);
    }

    /// <summary>Uniform between <paramref name="minimum"/> and <paramref name="maximum"/>.</summary>
    /// <param name="minimum">Zero or more.</param>
    /// <param name="maximum">At least <paramref name="minimum"/>.</param>
    public static LatencyDistribution Uniform(TimeSpan minimum, TimeSpan maximum)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimum, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximum, minimum);
        return new(Shape.Uniform, minimum.Ticks, maximum.Ticks - minimum.Ticks);
    }

    /// <summary>
    /// <paramref name="minimum"/> plus an exponential tail whose mean makes the whole average <paramref name="mean"/>
    /// (cut at twenty times the tail's mean, so one packet cannot stall a run).
    /// </summary>
    /// <param name="minimum">The propagation delay no packet beats.</param>
    /// <param name="mean">The average latency, at least <paramref name="minimum"/>.</param>
    public static LatencyDistribution Exponential(TimeSpan minimum, TimeSpan mean)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimum, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(mean, minimum);
        return new(Shape.Exponential, minimum.Ticks, mean.Ticks - minimum.Ticks);
    }

    /// <summary>The longest latency the distribution gives (the exponential tail's cut).</summary>
    public TimeSpan Maximum => TimeSpan.FromTicks(_shape switch
    {
        Shape.Fixed => _minimum,
        Shape.Uniform => _minimum + _spread,
        _ => _minimum + 20 * _spread,
    });

    /// <summary>One latency, in clock ticks.</summary>
    internal long Sample(SimulationRandom random) => _shape switch
    {
        Shape.Fixed => _minimum,
        Shape.Uniform => _minimum + random.NextInt64(_spread + 1),
        _ => _minimum + (long)Math.Min(20.0 * _spread, -Math.Log(1 - random.NextDouble()) * _spread),
    };

    /// <inheritdoc />
    public override string ToString() => _shape switch
    {
        Shape.Fixed => $"fixed {TimeSpan.FromTicks(_minimum).TotalMilliseconds:0.###} ms",
        Shape.Uniform => $"uniform {TimeSpan.FromTicks(_minimum).TotalMilliseconds:0.###}-{TimeSpan.FromTicks(_minimum + _spread).TotalMilliseconds:0.###} ms",
        _ => $"exponential from {TimeSpan.FromTicks(_minimum).TotalMilliseconds:0.###} ms, mean {TimeSpan.FromTicks(_minimum + _spread).TotalMilliseconds:0.###} ms",
    };
}
