using System.Buffers;
using System.Buffers.Text;

namespace Meanwhile.Http.Server;

/// <summary>
/// Writes the echo-mode JSON body for a request:
/// <c>{"method":"GET","target":"/a?b=1","version":"HTTP/1.1","headers":[["Host","x"]],"body_base64":"..."}</c>.
/// </summary>
/// <remarks>
/// Every string carries the message's bytes one character per byte (Latin-1), so obs-text 0xE9 becomes
/// <c>"\u00e9"</c>. The output is pure ASCII: bytes outside printable ASCII are written as <c>\u00XX</c>,
/// which every JSON reader decodes to the same Latin-1 character. Trailers are not listed.
/// </remarks>
public static class EchoJsonWriter
{
    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    /// <summary>Writes the echo JSON of <paramref name="head"/> and its de-chunked <paramref name="body"/>.</summary>
    /// <param name="head">The parsed request head.</param>
    /// <param name="body">The body content after removing the chunked coding.</param>
    /// <param name="output">Where the UTF-8 (in fact ASCII) JSON goes.</param>
    public static void Write(HttpRequestHead head, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        WriteStart(head, output);
        WriteBodyPart(body, output);
        WriteEnd(output);
    }

    /// <summary>
    /// Writes the JSON up to the body's base64 (the body then goes through <see cref="WriteBodyPart"/>, and
    /// <see cref="WriteEnd"/> closes it), so a large body can be encoded and sent piece by piece.
    /// </summary>
    /// <param name="head">The parsed request head.</param>
    /// <param name="output">Where the JSON goes.</param>
    public static void WriteStart(HttpRequestHead head, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(output);

        WriteRaw(output, "{\"method\":"u8);
        WriteString(output, head.Method);
        WriteRaw(output, ",\"target\":"u8);
        WriteString(output, head.Target);
        WriteRaw(output, ",\"version\":"u8);
        WriteString(output, head.VersionBytes);
        WriteRaw(output, ",\"headers\":["u8);
        bool first = true;
        foreach (HttpField field in head.Fields)
        {
            WriteRaw(output, first ? "["u8 : ",["u8);
            WriteString(output, field.Name);
            WriteRaw(output, ","u8);
            WriteString(output, field.Value);
            WriteRaw(output, "]"u8);
            first = false;
        }

        WriteRaw(output, "],\"body_base64\":\""u8);
    }

    /// <summary>Writes a piece of the body as base64. Every piece but the last must be a multiple of 3 bytes long, so no padding lands mid-string.</summary>
    /// <param name="body">Body bytes, in order.</param>
    /// <param name="output">Where the JSON goes.</param>
    public static void WriteBodyPart(ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> encoded = output.GetSpan(Base64.GetMaxEncodedToUtf8Length(body.Length));
        Base64.EncodeToUtf8(body, encoded, out _, out int written);
        output.Advance(written);
    }

    /// <summary>Closes the JSON started by <see cref="WriteStart"/>.</summary>
    /// <param name="output">Where the JSON goes.</param>
    public static void WriteEnd(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteRaw(output, "\"}"u8);
    }

    /// <summary>Writes <paramref name="latin1"/> as a quoted JSON string, one character per byte.</summary>
    /// <param name="output">Where the JSON goes.</param>
    /// <param name="latin1">The bytes, each read as the Latin-1 character of the same value.</param>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> latin1)
    {
        ArgumentNullException.ThrowIfNull(output);
        int length = 2;
        foreach (byte b in latin1)
        {
            length += EscapedLength(b);
        }

        Span<byte> span = output.GetSpan(length);
        int at = 0;
        span[at++] = (byte)'"';
        while (!latin1.IsEmpty)
        {
            // Copy runs of bytes that need no escaping in one go; they are the bulk of any head.
            int run = latin1.IndexOfAnyExcept(Plain);
            if (run < 0)
            {
                run = latin1.Length;
            }

            latin1[..run].CopyTo(span[at..]);
            at += run;
            latin1 = latin1[run..];
            if (latin1.IsEmpty)
            {
                break;
            }

            at += Escape(latin1[0], span[at..]);
            latin1 = latin1[1..];
        }

        span[at++] = (byte)'"';
        output.Advance(at);
    }

    private static readonly SearchValues<byte> Plain = SearchValues.Create(PlainBytes());

    private static byte[] PlainBytes()
    {
        var bytes = new List<byte>();
        for (int b = 0x20; b < 0x7F; b++)
        {
            if (b != '"' && b != '\\')
            {
                bytes.Add((byte)b);
            }
        }

        return [.. bytes];
    }

    private static int EscapedLength(byte b) => b is >= 0x20 and < 0x7F ? (b is (byte)'"' or (byte)'\\' ? 2 : 1) : 6;

    private static int Escape(byte b, Span<byte> destination)
    {
        if (b is (byte)'"' or (byte)'\\')
        {
            destination[0] = (byte)'\\';
            destination[1] = b;
            return 2;
        }

        "\\u00"u8.CopyTo(destination);
        destination[4] = Hex[b >> 4];
        destination[5] = Hex[b & 0xF];
        return 6;
    }

    private static void WriteRaw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
