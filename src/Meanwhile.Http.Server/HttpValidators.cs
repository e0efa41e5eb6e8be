using System.Buffers.Text;

namespace Meanwhile.Http.Server;

/// <summary>The outcome of reading a <c>Range</c> field against a representation's length.</summary>
internal enum RangeVerdict : byte
{
    /// <summary>No usable single range (absent, malformed, another unit, several ranges): send the whole representation.</summary>
    Whole,
    /// <summary>One satisfiable range: 206.</summary>
    Partial,
    /// <summary>A well-formed range that starts past the end: 416.</summary>
    Unsatisfiable,
}

/// <summary>
/// Conditional requests and byte ranges (RFC 9110 13 and 14) for representations that have an entity-tag and a
/// modification time: parsing of <c>If-None-Match</c>, <c>If-Modified-Since</c>, <c>If-Range</c> and <c>Range</c>,
/// over the request's bytes, without allocating.
/// </summary>
internal static class HttpValidators
{
    /// <summary>Length of an IMF-fixdate such as <c>Sun, 06 Nov 1994 08:49:37 GMT</c>.</summary>
    public const int DateLength = 29;

    /// <summary>True when <paramref name="fieldValue"/> (an If-None-Match list) matches <paramref name="etag"/> by weak comparison, or is <c>*</c>.</summary>
    public static bool NoneMatchHits(ReadOnlySpan<byte> fieldValue, ReadOnlySpan<byte> etag)
    {
        var list = Trim(fieldValue);
        if (list.SequenceEqual("*"u8)) return true;
        var opaque = Opaque(etag);
        while (!list.IsEmpty)
        {
            int comma = list.IndexOf((byte)',');
            var item = Trim(comma < 0 ? list : list[..comma]);
            list = comma < 0 ? default : list[(comma + 1)..];
            if (Opaque(item).SequenceEqual(opaque)) return true; // weak comparison: W/ does not matter
        }
        return false;
    }

    /// <summary>True when the resource was not modified after the If-Modified-Since date <paramref name="fieldValue"/>; false when it was, or the date is invalid (then it is ignored, RFC 9110 13.1.3).</summary>
    public static bool NotModifiedSince(ReadOnlySpan<byte> fieldValue, DateTimeOffset lastModified) =>
        TryParseDate(fieldValue, out var since) && lastModified <= since;

    /// <summary>
    /// Whether a Range request may be honoured under its If-Range (RFC 9110 13.1.5): an entity-tag must match
    /// strongly; a date must equal Last-Modified exactly.
    /// </summary>
    public static bool IfRangeHolds(ReadOnlySpan<byte> fieldValue, ReadOnlySpan<byte> etag, DateTimeOffset lastModified)
    {
        var value = Trim(fieldValue);
        if (value.StartsWith("W/"u8)) return false; // a weak tag never matches strongly
        if (value.StartsWith("\""u8)) return value.SequenceEqual(etag);
        return TryParseDate(value, out var date) && date == lastModified;
    }

    /// <summary>
    /// Reads a <c>Range</c> value against <paramref name="length"/>. Only one <c>bytes</c> range is honoured; several
    /// ranges get the whole representation (allowed by RFC 9110 14.2, and it spares us multipart/byteranges).
    /// </summary>
    /// <param name="fieldValue">The field's value.</param>
    /// <param name="length">The representation's length.</param>
    /// <param name="first">The first byte's offset (Partial only).</param>
    /// <param name="last">The last byte's offset, inclusive (Partial only).</param>
    public static RangeVerdict ParseRange(ReadOnlySpan<byte> fieldValue, long length, out long first, out long last)
    {
        first = last = 0;
        var value = Trim(fieldValue);
        if (value.Length < 6 || !System.Text.Ascii.EqualsIgnoreCase(value[..6], "bytes="u8)) return RangeVerdict.Whole;
        var spec = Trim(value[6..]);
        if (spec.IndexOf((byte)',') >= 0) return RangeVerdict.Whole;
        int dash = spec.IndexOf((byte)'-');
        if (dash < 0) return RangeVerdict.Whole;
        var left = spec[..dash];
        var right = spec[(dash + 1)..];
        if (left.IsEmpty)
        {
            // suffix-range "-N": the last N bytes
            if (!TryParseDigits(right, out long suffix)) return RangeVerdict.Whole;
            if (suffix == 0 || length == 0) return RangeVerdict.Unsatisfiable;
            first = Math.Max(0, length - suffix);
            last = length - 1;
            return RangeVerdict.Partial;
        }
        if (!TryParseDigits(left, out first)) return RangeVerdict.Whole;
        long end = long.MaxValue;
        if (!right.IsEmpty)
        {
            if (!TryParseDigits(right, out end)) return RangeVerdict.Whole;
            if (end < first) return RangeVerdict.Whole; // invalid: ignored, like any malformed Range
        }
        if (first >= length) return RangeVerdict.Unsatisfiable;
        last = Math.Min(end, length - 1);
        return RangeVerdict.Partial;
    }

    /// <summary>Writes <paramref name="time"/> (whole seconds, UTC) as an IMF-fixdate into <paramref name="destination"/> (29 bytes).</summary>
    public static void FormatDate(DateTimeOffset time, Span<byte> destination)
    {
        // A file's Last-Modified is the same on every request for it: the thread's last answer is kept (formatting the
        // date was half a per cent of a small file's cost), without locks since each loop has its own thread.
        var last = s_lastDate ??= new byte[DateLength];
        if (time.UtcTicks != s_lastDateTicks || s_lastDateTicks == 0)
        {
            Utf8Formatter.TryFormat(time, last, out _, new System.Buffers.StandardFormat('R'));
            s_lastDateTicks = time.UtcTicks;
        }
        last.CopyTo(destination);
    }

    [ThreadStatic] private static byte[]? s_lastDate;
    [ThreadStatic] private static long s_lastDateTicks;

    private static bool TryParseDate(ReadOnlySpan<byte> value, out DateTimeOffset date)
    {
        value = Trim(value);
        // IMF-fixdate only: the obsolete formats (RFC 850, asctime) come from clients long gone, and ignoring an
        // unreadable date just means a full response.
        return Utf8Parser.TryParse(value, out date, out int consumed, 'R') && consumed == value.Length;
    }

    /// <summary>Digits only (no sign, no spaces), saturating at <see cref="long.MaxValue"/> instead of overflowing.</summary>
    private static bool TryParseDigits(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty) return false;
        foreach (byte b in digits)
        {
            if (b < (byte)'0' || b > (byte)'9') return false;
            value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : value * 10 + (b - '0');
        }
        return true;
    }

    private static ReadOnlySpan<byte> Opaque(ReadOnlySpan<byte> tag) => tag.StartsWith("W/"u8) ? tag[2..] : tag;

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value) => value.Trim(" \t"u8);
}
