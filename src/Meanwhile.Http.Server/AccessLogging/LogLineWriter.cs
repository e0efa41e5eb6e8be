using System.Buffers.Text;

namespace Meanwhile.Http.Server;

/// <summary>
/// Writes one log line into a fixed span and remembers whether it fit: the access log formats straight into its
/// bounded buffer, and a line that does not fit is dropped whole rather than cut.
/// </summary>
internal ref struct LogLineWriter(Span<byte> destination)
{
    private readonly Span<byte> _destination = destination;
    private int _at;
    private bool _overflowed;

    /// <summary>Bytes written, or -1 when the line did not fit.</summary>
    public readonly int Written => _overflowed ? -1 : _at;

    public void Raw(scoped ReadOnlySpan<byte> bytes)
    {
        if (!bytes.TryCopyTo(_destination[_at..]))
        {
            _overflowed = true;
            return;
        }
        _at += bytes.Length;
    }

    public void Byte(byte b)
    {
        if (_at >= _destination.Length)
        {
            _overflowed = true;
            return;
        }
        _destination[_at++] = b;
    }

    public void Number(long value)
    {
        if (!Utf8Formatter.TryFormat(value, _destination[_at..], out int n)) _overflowed = true;
        else _at += n;
    }

    /// <summary>Milliseconds with three decimals (<c>0.123</c>).</summary>
    public void Milliseconds(double value)
    {
        if (!Utf8Formatter.TryFormat((decimal)Math.Round(value, 3), _destination[_at..], out int n, new System.Buffers.StandardFormat('F', 3))) _overflowed = true;
        else _at += n;
    }

    /// <summary>
    /// nginx's default escaping inside a quoted field: <c>"</c>, <c>\</c>, control bytes and bytes from 0x7F up become
    /// <c>\xHH</c>, so a request can never forge a field or a second line.
    /// </summary>
    public void Escaped(scoped ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            if (b is < 0x20 or >= 0x7F or (byte)'"' or (byte)'\\')
            {
                Byte((byte)'\\');
                Byte((byte)'x');
                Hex(b);
            }
            else Byte(b);
        }
    }

    /// <summary>A JSON string's content: <c>"</c> and <c>\</c> escaped, every other byte below 0x20 or from 0x7F up as <c>\u00HH</c> (the bytes read as Latin-1), so the line is valid JSON whatever the request held.</summary>
    public void JsonEscaped(scoped ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            if (b is (byte)'"' or (byte)'\\')
            {
                Byte((byte)'\\');
                Byte(b);
            }
            else if (b is < 0x20 or >= 0x7F)
            {
                Raw("\\u00"u8);
                Hex(b);
            }
            else Byte(b);
        }
    }

    private void Hex(byte b)
    {
        Byte((byte)"0123456789ABCDEF"[b >> 4]);
        Byte((byte)"0123456789ABCDEF"[b & 0xF]);
    }
}
