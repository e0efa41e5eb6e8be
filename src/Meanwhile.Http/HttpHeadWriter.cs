using System.Buffers;
using System.Buffers.Text;

namespace Meanwhile.Http;

/// <summary>
/// Serializes message heads: request line or status line, field lines, framing fields and the empty line.
/// </summary>
/// <remarks>
/// Every element is checked against the grammar the parser enforces, and a bad one throws
/// <see cref="ArgumentException"/>: a CR or LF slipped into a value must never become a second header
/// (header injection). Writes go to an <see cref="IBufferWriter{T}"/> so a server can gather several
/// responses into one write.
/// </remarks>
public static class HttpHeadWriter
{
    /// <summary>Writes <c>method SP target SP HTTP-version CRLF</c>.</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="method">A token, e.g. <c>"GET"u8</c>.</param>
    /// <param name="target">The request-target: visible ASCII or obs-text, no SP.</param>
    /// <param name="version">The version to send.</param>
    public static void WriteRequestLine(IBufferWriter<byte> output, ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, HttpProtocolVersion version)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!HttpChars.IsToken(method))
        {
            throw new ArgumentException("The method must be a non-empty token.", nameof(method));
        }

        if (target.IsEmpty || target.ContainsAnyExcept(HttpChars.Target))
        {
            throw new ArgumentException("The request-target must be non-empty, without SP or control bytes.", nameof(target));
        }

        Span<byte> span = output.GetSpan(method.Length + target.Length + 12);
        method.CopyTo(span);
        int at = method.Length;
        span[at++] = HttpChars.SP;
        target.CopyTo(span[at..]);
        at += target.Length;
        span[at++] = HttpChars.SP;
        VersionBytes(version).CopyTo(span[at..]);
        at += 8;
        span[at++] = HttpChars.CR;
        span[at++] = HttpChars.LF;
        output.Advance(at);
    }

    /// <summary>Writes <c>HTTP-version SP status SP reason CRLF</c>.</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="version">The version to send.</param>
    /// <param name="statusCode">From 100 to 999.</param>
    /// <param name="reasonPhrase">The reason phrase (may be empty); <see cref="HttpReasonPhrases.Get"/> has the usual ones.</param>
    public static void WriteStatusLine(IBufferWriter<byte> output, HttpProtocolVersion version, int statusCode, ReadOnlySpan<byte> reasonPhrase)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 999);
        if (HttpChars.IndexOfNonFieldValue(reasonPhrase) >= 0)
        {
            throw new ArgumentException("The reason phrase must not hold control bytes.", nameof(reasonPhrase));
        }

        Span<byte> span = output.GetSpan(reasonPhrase.Length + 15);
        VersionBytes(version).CopyTo(span);
        span[8] = HttpChars.SP;
        span[9] = (byte)('0' + (statusCode / 100));
        span[10] = (byte)('0' + (statusCode / 10 % 10));
        span[11] = (byte)('0' + (statusCode % 10));
        span[12] = HttpChars.SP;
        reasonPhrase.CopyTo(span[13..]);
        int at = 13 + reasonPhrase.Length;
        span[at++] = HttpChars.CR;
        span[at++] = HttpChars.LF;
        output.Advance(at);
    }

    /// <summary>Writes <c>name: value CRLF</c>.</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="name">A token.</param>
    /// <param name="value">Visible ASCII, obs-text, SP and HTAB, without leading or trailing whitespace (it would be lost in parsing).</param>
    public static void WriteField(IBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!HttpChars.IsToken(name))
        {
            throw new ArgumentException("A field name must be a non-empty token.", nameof(name));
        }

        // Not ContainsAnyExcept(FieldValue): without SSSE3 (Native AOT's default instruction set) that search emulates a
        // byte shuffle, ~700 instructions for one short value (callgrind, every response of the hello server).
        if (HttpChars.IndexOfNonFieldValue(value) >= 0 || (!value.IsEmpty && (HttpChars.IsWhitespace(value[0]) || HttpChars.IsWhitespace(value[^1]))))
        {
            throw new ArgumentException("A field value must hold no control bytes and no leading or trailing whitespace.", nameof(value));
        }

        WriteCheckedField(output, name, value);
    }

    /// <summary>
    /// Writes a received field line on (a proxy forwarding a message): <c>name: value CRLF</c>, as the parser read it. The
    /// parser already checked the name and the value, so they are copied without checking them again.
    /// </summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="field">A field line of a parsed head (<see cref="HttpFieldList"/>).</param>
    /// <exception cref="ArgumentException">The field is a default value, not one from a parser.</exception>
    public static void WriteField(IBufferWriter<byte> output, HttpField field)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (field.Name.IsEmpty)
        {
            throw new ArgumentException("A field line from a parsed head has a name.", nameof(field));
        }

        WriteCheckedField(output, field.Name, field.Value);
    }

    private static void WriteCheckedField(IBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (output is PooledByteBuffer pooled)
        {
            pooled.WriteFieldLine(name, value); // what the server and the proxy write into: no interface calls
            return;
        }

        Span<byte> span = output.GetSpan(name.Length + value.Length + 4);
        name.CopyTo(span);
        int at = name.Length;
        span[at++] = HttpChars.Colon;
        span[at++] = HttpChars.SP;
        value.CopyTo(span[at..]);
        at += value.Length;
        span[at++] = HttpChars.CR;
        span[at++] = HttpChars.LF;
        output.Advance(at);
    }

    /// <summary>Writes <c>name: value CRLF</c> from strings, one byte per character (Latin-1).</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="name">A token.</param>
    /// <param name="value">Characters up to U+00FF, as for the byte overload.</param>
    public static void WriteField(IBufferWriter<byte> output, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.AsSpan().ContainsAnyInRange('\u0100', char.MaxValue) || value.AsSpan().ContainsAnyInRange('\u0100', char.MaxValue))
        {
            throw new ArgumentException("Field names and values must be Latin-1 (one byte per character).");
        }

        int length = name.Length + value.Length;
        byte[]? rented = length > 512 ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> bytes = rented ?? stackalloc byte[length];
        System.Text.Encoding.Latin1.GetBytes(name, bytes);
        System.Text.Encoding.Latin1.GetBytes(value, bytes[name.Length..]);
        try
        {
            WriteField(output, bytes[..name.Length], bytes[name.Length..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Writes <c>Content-Length: n CRLF</c>.</summary>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="length">The body length in bytes.</param>
    public static void WriteContentLength(IBufferWriter<byte> output, long length)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ReadOnlySpan<byte> name = "Content-Length: "u8;
        Span<byte> span = output.GetSpan(name.Length + 21);
        name.CopyTo(span);
        Utf8Formatter.TryFormat(length, span[name.Length..], out int digits);
        int at = name.Length + digits;
        span[at++] = HttpChars.CR;
        span[at++] = HttpChars.LF;
        output.Advance(at);
    }

    /// <summary>Writes <c>Transfer-Encoding: chunked CRLF</c>; the body then goes through <see cref="HttpChunkedWriter"/>.</summary>
    /// <param name="output">Where the bytes go.</param>
    public static void WriteChunkedTransferEncoding(IBufferWriter<byte> output) => WriteRaw(output, "Transfer-Encoding: chunked\r\n"u8);

    /// <summary>Writes the empty line that ends a header (or trailer) section.</summary>
    /// <param name="output">Where the bytes go.</param>
    public static void WriteEndOfHead(IBufferWriter<byte> output) => WriteRaw(output, "\r\n"u8);

    private static ReadOnlySpan<byte> VersionBytes(HttpProtocolVersion version) => version == HttpProtocolVersion.Http10 ? "HTTP/1.0"u8 : "HTTP/1.1"u8;

    internal static void WriteRaw(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(output);
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
