using System.Buffers.Text;

namespace Meanwhile.Http.Server;

/// <summary>
/// The two timestamps access log lines carry, nginx's <c>$time_local</c> (<c>06/Dec/2026:13:40:00 +0000</c>) and
/// <c>$time_iso8601</c> (<c>2026-12-06T13:40:00+00:00</c>), formatted once a second rather than per line. One per
/// loop: only its thread uses it.
/// </summary>
internal sealed class LogClock
{
    private static readonly byte[][] Months = [.. "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".Split(' ').Select(m => System.Text.Encoding.ASCII.GetBytes(m))];
    private readonly byte[] _local = new byte[26];
    private readonly byte[] _iso = new byte[25];
    private long _second = long.MinValue;

    public ReadOnlySpan<byte> Local => _local;

    public ReadOnlySpan<byte> Iso8601 => _iso;

    /// <summary>Formats <paramref name="utcNow"/> in the machine's time zone if the second changed.</summary>
    public void Update(DateTimeOffset utcNow)
    {
        long second = utcNow.ToUnixTimeSeconds();
        if (second == _second) return;
        _second = second;
        var offset = TimeZoneInfo.Local.GetUtcOffset(utcNow);
        var local = utcNow.ToOffset(offset);

        // 06/Dec/2026:13:40:00 +0000
        var d = _local.AsSpan();
        Two(d, local.Day);
        d[2] = (byte)'/';
        Months[local.Month - 1].CopyTo(d[3..]);
        d[6] = (byte)'/';
        Four(d[7..], local.Year);
        d[11] = (byte)':';
        Time(d[12..], local);
        d[20] = (byte)' ';
        Zone(d[21..], offset, colon: false);

        // 2026-12-06T13:40:00+00:00
        var i = _iso.AsSpan();
        Four(i, local.Year);
        i[4] = (byte)'-';
        Two(i[5..], local.Month);
        i[7] = (byte)'-';
        Two(i[8..], local.Day);
        i[10] = (byte)'T';
        Time(i[11..], local);
        Zone(i[19..], offset, colon: true);
    }

    private static void Time(Span<byte> d, DateTimeOffset t)
    {
        Two(d, t.Hour);
        d[2] = (byte)':';
        Two(d[3..], t.Minute);
        d[5] = (byte)':';
        Two(d[6..], t.Second);
    }

    private static void Zone(Span<byte> d, TimeSpan offset, bool colon)
    {
        d[0] = offset < TimeSpan.Zero ? (byte)'-' : (byte)'+';
        var magnitude = offset.Duration();
        Two(d[1..], magnitude.Hours);
        if (colon) d[3] = (byte)':';
        Two(d[(colon ? 4 : 3)..], magnitude.Minutes);
    }

    private static void Two(Span<byte> d, int value) => Utf8Formatter.TryFormat(value, d, out _, new System.Buffers.StandardFormat('D', 2));

    private static void Four(Span<byte> d, int value) => Utf8Formatter.TryFormat(value, d, out _, new System.Buffers.StandardFormat('D', 4));
}
