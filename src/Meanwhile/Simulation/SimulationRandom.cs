using System.Numerics;

namespace Meanwhile;

/// <summary>
/// The simulation's one source of choices: xoshiro256** seeded through SplitMix64. Written out rather than
/// <see cref="Random"/> so that a seed means the same run on every .NET version and platform.
/// </summary>
internal sealed class SimulationRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public SimulationRandom(long seed)
    {
        ulong x = (ulong)seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A number in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A number in [0, <paramref name="bound"/>).</summary>
    public long NextInt64(long bound) => bound <= 1 ? 0 : (long)(NextUInt64() % (ulong)bound);

    /// <summary>True with probability <paramref name="p"/>; draws nothing when <paramref name="p"/> is 0, so a clean link costs no draws.</summary>
    public bool Chance(double p) => p > 0 && NextDouble() < p;
}
