using System.Buffers.Text;

namespace Meanwhile.Http.Server;

/// <summary>
/// The <c>Date: ... GMT\r\n</c> field line every response carries (RFC 9110 6.6.1), formatted once a second by
/// the loop's heartbeat into the same array rather than per request. One per loop: only its thread reads it.
/// </summary>
internal sealed class DateHeader
{
    // "Date: " + IMF-fixdate (always 29 characters) + CRLF.
    private readonly byte[] _line = new byte[6 + 29 + 2];
    private long _second = long.MinValue;

    public DateHeader()
    {
        "Date: "u8.CopyTo(_line);
        _line[^2] = (byte)'\r';
        _line[^1] = (byte)'\n';
    }

    public ReadOnlySpan<byte> Line => _line;

    /// <summary>Formats <paramref name="now"/> if the second changed.</summary>
    public void Update(DateTimeOffset now)
    {
        long second = now.ToUnixTimeSeconds();
        if (second == _second) return;
        _second = second;
        Utf8Formatter.TryFormat(now.UtcDateTime, _line.AsSpan(6, 29), out _, new System.Buffers.StandardFormat('R'));
    }
}
