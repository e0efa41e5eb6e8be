using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Meanwhile.Http;

/// <summary>The byte classes of RFC 9110/9112 as vectorized search sets, so validation is one IndexOfAnyExcept per element.</summary>
internal static class HttpChars
{
    internal const byte CR = (byte)'\r';
    internal const byte LF = (byte)'\n';
    internal const byte SP = (byte)' ';
    internal const byte HTAB = (byte)'\t';
    internal const byte Colon = (byte)':';

    private const string Alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string Digit = "0123456789";

    /// <summary>tchar (RFC 9110 5.6.2): what method names, field names, coding names and extension names are made of.</summary>
    internal static readonly SearchValues<byte> Token = SearchValues.Create("!#$%&'*+-.^_`|~"u8.ToArray().Concat(Ascii(Alpha + Digit)).ToArray());

    /// <summary>field-vchar plus SP and HTAB (RFC 9110 5.5): VCHAR and obs-text; no other control byte, no DEL.</summary>
    internal static readonly SearchValues<byte> FieldValue = SearchValues.Create(Range(0x20, 0x7E).Concat(Range(0x80, 0xFF)).Append(HTAB).ToArray());

    /// <summary>Bytes a request line's target can be made of: VCHAR and obs-text; CTLs, SP and DEL end or break the line. The URI grammar is <see cref="PathAndQuery"/>'s.</summary>
    internal static readonly SearchValues<byte> Target = SearchValues.Create(Range(0x21, 0x7E).Concat(Range(0x80, 0xFF)).ToArray());

    /// <summary>What a path and query are made of (RFC 3986 3.3, 3.4): unreserved, sub-delims, ":", "@", "/", "?" and "%" (of pct-encoded).</summary>
    internal static readonly SearchValues<byte> PathAndQuery = SearchValues.Create(Ascii(Alpha + Digit + "-._~!$&'()*+,;=:@/?%"));

    /// <summary>reg-name, IPv4 and IP-literal bytes plus ':' for the port (RFC 3986 3.2.2): what a Host value or an authority-form target may hold.</summary>
    internal static readonly SearchValues<byte> Authority = SearchValues.Create(Ascii(Alpha + Digit + "-._~!$&'()*+,;=%:[]"));

    /// <summary>Scheme characters after the first letter (RFC 3986 3.1).</summary>
    internal static readonly SearchValues<byte> SchemeTail = SearchValues.Create(Ascii(Alpha + Digit + "+-."));

    /// <summary>Hexadecimal digits, for chunk sizes.</summary>
    internal static readonly SearchValues<byte> HexDigit = SearchValues.Create(Ascii(Digit + "ABCDEFabcdef"));

    /// <summary>Decimal digits, for Content-Length and status codes.</summary>
    internal static readonly SearchValues<byte> DigitChars = SearchValues.Create(Ascii(Digit));

    /// <summary>SP and HTAB: optional whitespace (OWS, BWS).</summary>
    internal static readonly SearchValues<byte> Whitespace = SearchValues.Create([SP, HTAB]);

    /// <summary>
    /// The index of the first byte of <paramref name="value"/> that is not a field-value byte (<see cref="FieldValue"/>:
    /// a control byte other than HTAB, or DEL), or -1: <c>IndexOfAnyExcept(FieldValue)</c>, without a call through
    /// <see cref="SearchValues{T}"/>, sixteen bytes at a time. A field line ends at its CR, so the first stop is
    /// usually that CR.
    /// </summary>
    internal static int IndexOfNonFieldValue(ReadOnlySpan<byte> value)
    {
        ref byte start = ref MemoryMarshal.GetReference(value);
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var space = Vector128.Create(SP);
            var tab = Vector128.Create(HTAB);
            var del = Vector128.Create((byte)0x7F);
            for (; i <= value.Length - Vector128<byte>.Count; i += Vector128<byte>.Count)
            {
                var bytes = Vector128.LoadUnsafe(ref start, (nuint)i);
                var stops = (Vector128.LessThan(bytes, space) & ~Vector128.Equals(bytes, tab)) | Vector128.Equals(bytes, del);
                uint mask = stops.ExtractMostSignificantBits();
                if (mask != 0) return i + BitOperations.TrailingZeroCount(mask);
            }
        }

        for (; i < value.Length; i++)
        {
            byte b = Unsafe.Add(ref start, i);
            if ((b < SP && b != HTAB) || b == 0x7F) return i;
        }

        return -1;
    }

    /// <summary>True when <paramref name="value"/> is a non-empty token.</summary>
    internal static bool IsToken(ReadOnlySpan<byte> value) => !value.IsEmpty && !value.ContainsAnyExcept(Token);

    /// <summary>True when every "%" starts pct-encoded: "%" HEXDIG HEXDIG.</summary>
    internal static bool HasValidEscapes(ReadOnlySpan<byte> value)
    {
        for (int at = value.IndexOf((byte)'%'); at >= 0; at = value.IndexOf((byte)'%'))
        {
            if (value.Length < at + 3 || !HexDigit.Contains(value[at + 1]) || !HexDigit.Contains(value[at + 2]))
            {
                return false;
            }

            value = value[(at + 3)..];
        }

        return true;
    }

    /// <summary>True for SP and HTAB.</summary>
    internal static bool IsWhitespace(byte b) => b == SP || b == HTAB;

    /// <summary>Removes leading and trailing SP/HTAB (OWS), which RFC 9112 5.1 says are not part of a field value.</summary>
    internal static ReadOnlySpan<byte> TrimWhitespace(ReadOnlySpan<byte> value)
    {
        int start = value.IndexOfAnyExcept(Whitespace);
        if (start < 0)
        {
            return [];
        }

        int end = value.LastIndexOfAnyExcept(Whitespace);
        return value[start..(end + 1)];
    }

    private static byte[] Ascii(string chars) => System.Text.Encoding.ASCII.GetBytes(chars);

    private static IEnumerable<byte> Range(int first, int last)
    {
        for (int b = first; b <= last; b++)
        {
            yield return (byte)b;
        }
    }
}
