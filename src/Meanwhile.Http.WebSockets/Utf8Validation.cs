using System.Text.Unicode;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// Checks a text message's UTF-8 as its pieces arrive (RFC 6455 8.1): a sequence may be split across frames and reads,
/// so the state between pieces is the part of a sequence still expected. The bulk of each piece goes through the
/// runtime's vectorized <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/>; only a sequence cut at a piece's edge is walked
/// byte by byte. Invalid bytes are reported as soon as they are seen, not at the end of the message.
/// </summary>
internal struct Utf8Validation
{
    private byte _needed; // continuation bytes still expected
    private byte _low;    // the range allowed for the next continuation byte
    private byte _high;

    /// <summary>True when no sequence is left unfinished.</summary>
    public readonly bool IsComplete => _needed == 0;

    public void Reset() => this = default;

    /// <summary>Checks the next piece; false as soon as it cannot be part of valid UTF-8.</summary>
    public bool Append(ReadOnlySpan<byte> piece)
    {
        int i = 0;
        while (_needed > 0 && i < piece.Length)
        {
            if (!Step(piece[i])) return false;
            i++;
        }
        var rest = piece[i..];
        if (rest.IsEmpty) return true;
        // Leave out a sequence cut off at the end: look back over at most three continuation bytes for its lead.
        int cut = rest.Length;
        for (int back = 1; back <= Math.Min(4, rest.Length); back++)
        {
            byte b = rest[^back];
            if ((b & 0xC0) == 0x80) continue; // a continuation byte: keep looking for the lead
            int sequence = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            if (sequence > back) cut = rest.Length - back;
            break;
        }
        if (!Utf8.IsValid(rest[..cut])) return false;
        foreach (byte b in rest[cut..])
        {
            if (!Step(b)) return false;
        }
        return true;
    }

    private bool Step(byte b)
    {
        if (_needed > 0)
        {
            if (b < _low || b > _high) return false;
            _needed--;
            _low = 0x80;
            _high = 0xBF;
            return true;
        }
        if (b < 0x80) return true;
        (_needed, _low, _high) = b switch
        {
            >= 0xC2 and <= 0xDF => ((byte)1, (byte)0x80, (byte)0xBF),
            0xE0 => ((byte)2, (byte)0xA0, (byte)0xBF),
            0xED => ((byte)2, (byte)0x80, (byte)0x9F), // no surrogates
            >= 0xE1 and <= 0xEF => ((byte)2, (byte)0x80, (byte)0xBF),
            0xF0 => ((byte)3, (byte)0x90, (byte)0xBF),
            >= 0xF1 and <= 0xF3 => ((byte)3, (byte)0x80, (byte)0xBF),
            0xF4 => ((byte)3, (byte)0x80, (byte)0x8F), // nothing above U+10FFFF
            _ => ((byte)0, (byte)0, (byte)0),
        };
        return _needed > 0;
    }
}
