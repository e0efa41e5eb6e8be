using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Meanwhile.Http;

/// <summary>One field line as received: the name exactly as sent, the value without surrounding SP/HTAB.</summary>
/// <remarks>A ref struct of spans into the parser's head storage: reading fields costs no allocation.</remarks>
public readonly ref struct HttpField
{
    internal HttpField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Name = name;
        Value = value;
    }

    /// <summary>The field name, with the case the sender used.</summary>
    public ReadOnlySpan<byte> Name { get; }

    /// <summary>The field value, leading and trailing SP/HTAB removed (RFC 9112 5.1); may hold obs-text bytes.</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>True when the name equals <paramref name="name"/> ignoring ASCII case (field names are case-insensitive).</summary>
    /// <param name="name">An ASCII field name.</param>
    /// <returns>Whether the names match.</returns>
    public bool NameEquals(ReadOnlySpan<byte> name) => EqualsIgnoreCase(Name, name);

    /// <summary>
    /// True when <paramref name="left"/> equals <paramref name="right"/> ignoring ASCII case, as field names and the
    /// tokens of list fields compare (RFC 9110 5.1): <see cref="System.Text.Ascii.EqualsIgnoreCase(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>,
    /// except that identical spans are always equal, and faster for the short names of a head: eight bytes at a time,
    /// and a name spelled as the literal is (the usual case) needs no folding.
    /// </summary>
    /// <param name="left">A name, as received.</param>
    /// <param name="right">The name to compare with.</param>
    /// <returns>Whether the names match.</returns>
    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        int length = left.Length;
        if (length != right.Length) return false;
        if ((uint)(length - 4) > 28) return System.Text.Ascii.EqualsIgnoreCase(left, right); // 4 to 32 bytes below
        ref byte l = ref MemoryMarshal.GetReference(left);
        ref byte r = ref MemoryMarshal.GetReference(right);
        ulong exact = 0, folded = 0;
        if (length >= 8)
        {
            for (int i = 0; i < length - 8; i += 8) Compare(Read8(ref l, i), Read8(ref r, i), ref exact, ref folded);
            Compare(Read8(ref l, length - 8), Read8(ref r, length - 8), ref exact, ref folded);
        }
        else
        {
            Compare(Read4(ref l, 0), Read4(ref r, 0), ref exact, ref folded);
            Compare(Read4(ref l, length - 4), Read4(ref r, length - 4), ref exact, ref folded);
        }
        // Names equal but for ASCII case are equal with bit 0x20 set in every byte, so a difference there is final.
        // Equal that way but not byte for byte, they may still differ (a '-' and a CR): the exact comparison decides.
        if (folded != 0) return false;
        return exact == 0 || System.Text.Ascii.EqualsIgnoreCase(left, right);

        static ulong Read8(ref byte at, int offset) => Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref at, offset));
        static ulong Read4(ref byte at, int offset) => Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref at, offset));
        static void Compare(ulong a, ulong b, ref ulong exact, ref ulong folded)
        {
            const ulong CaseBits = 0x2020202020202020;
            exact |= a ^ b;
            folded |= (a | CaseBits) ^ (b | CaseBits);
        }
    }
}
