
namespace Meanwhile.Cli.Tests;

public sealed class HistogramTests
{
    [Fact]
    public void Buckets_are_contiguous_and_within_one_sixty_fourth()
    {
        int previous = -1;
        foreach (long value in Enumerable.Range(0, 20_000).Select(i => (long)i).Concat([1L << 40, (1L << 40) + 12345, long.MaxValue / 3]))
        {
            int index = LatencyHistogram.IndexOf(value);
            if (value < 20_000) Assert.InRange(index, previous, previous + 1);
            previous = value < 20_000 ? index : previous;
            long high = LatencyHistogram.HighestIn(index);
            Assert.True(high >= value);
            Assert.True(high - value <= value / 64, $"{value} → {high}");
        }
    }

    [Fact]
    public void Percentiles_of_a_known_distribution()
    {
        var histogram = new LatencyHistogram();
        for (long v = 1; v <= 100_000; v++) histogram.Record(v * 1000); // 1 µs .. 100 ms, uniform
        Assert.Equal(100_000, histogram.Count);
        Assert.Equal(100_000_000, histogram.Max);
        foreach (var (p, expected) in new[] { (50.0, 50_000_000L), (90, 90_000_000), (99, 99_000_000), (99.9, 99_900_000) })
        {
            long value = histogram.ValueAt(p);
            Assert.InRange(value, expected, expected + expected / 64);
        }
        Assert.Equal(100_000_000, histogram.ValueAt(100));
    }
}
