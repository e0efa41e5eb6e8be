using System.Buffers.Binary;
using System.Numerics;

namespace Meanwhile;

/// <summary>What crossed a host boundary, hashed in the order it happened: the proof that a seed replays exactly.</summary>
internal sealed class SimulationTrace(TextWriter? log)
{
    private ulong _hash = 0x6A09E667F3BCC908;

    public long Count { get; private set; }

    public ulong Hash => Finish(_hash ^ (ulong)Count);

    public bool IsLogging => log is not null;

    /// <summary>Adds one event: its kind and outcome, its virtual time, up to four numbers that say where, and its payload.</summary>
    public void Record(string kind, string outcome, long time, long a, long b, long c, long d, ReadOnlySpan<byte> payload)
    {
        foreach (char ch in kind) Mix(ch);
        foreach (char ch in outcome) Mix(ch);
        Mix((ulong)time);
        Mix((ulong)a);
        Mix((ulong)b);
        Mix((ulong)c);
        Mix((ulong)d);
        Mix((ulong)payload.Length);
        while (payload.Length >= 8)
        {
            Mix(BinaryPrimitives.ReadUInt64LittleEndian(payload));
            payload = payload[8..];
        }
        ulong tail = 0;
        for (int i = 0; i < payload.Length; i++) tail |= (ulong)payload[i] << (8 * i);
        Mix(tail);
        Count++;
    }

    /// <summary>Writes a line to the log, if there is one (callers check <see cref="IsLogging"/> before formatting).</summary>
    public void Log(long time, string line) => log?.WriteLine($"{TimeSpan.FromTicks(time).TotalSeconds,12:0.000000} {line}");

    private void Mix(ulong value) => _hash = BitOperations.RotateLeft(_hash ^ (value * 0x9E3779B97F4A7C15), 27) * 0xC2B2AE3D27D4EB4F + 0x165667B19E3779F9;

    private static ulong Finish(ulong h)
    {
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCD;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53;
        return h ^ (h >> 33);
    }
}
