namespace Meanwhile.Http;

/// <summary>
/// Parses <c>chunk-size [ chunk-ext ]</c> (RFC 9112 7.1, 7.1.1). Extensions are checked for syntax and then
/// ignored: no one here gives them meaning, but a malformed one means the framing cannot be trusted.
/// </summary>
internal static class ChunkSizeLine
{
    /// <summary>Parses one chunk-size line (without its CRLF).</summary>
    /// <param name="line">The line content.</param>
    /// <param name="size">The chunk size.</param>
    /// <returns>An error, or <c>default</c>.</returns>
    internal static HttpParseError Parse(ReadOnlySpan<byte> line, out long size)
    {
        size = 0;
        int digits = line.IndexOfAnyExcept(HttpChars.HexDigit);
        if (digits < 0)
        {
            digits = line.Length;
        }

        if (digits == 0)
        {
            return Invalid("missing chunk size");
        }

        foreach (byte b in line[..digits])
        {
            if (size > (long.MaxValue >> 4))
            {
                return Invalid("chunk size overflows");
            }

            size = (size << 4) | (long)HexValue(b);
        }

        return ParseExtensions(line[digits..]);
    }

    private static HttpParseError ParseExtensions(ReadOnlySpan<byte> rest)
    {
        // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
        while (!rest.IsEmpty)
        {
            rest = SkipWhitespace(rest);
            if (rest.IsEmpty)
            {
                return Invalid("whitespace after chunk size");
            }

            if (rest[0] != (byte)';')
            {
                return Invalid("invalid character after chunk size");
            }

            rest = SkipWhitespace(rest[1..]);
            int nameLength = TokenLength(rest);
            if (nameLength == 0)
            {
                return Invalid("empty chunk extension name");
            }

            rest = rest[nameLength..];
            ReadOnlySpan<byte> afterName = SkipWhitespace(rest);
            if (afterName.IsEmpty || afterName[0] != (byte)'=')
            {
                continue;
            }

            rest = SkipWhitespace(afterName[1..]);
            if (!rest.IsEmpty && rest[0] == (byte)'"')
            {
                int quotedLength = QuotedStringLength(rest);
                if (quotedLength < 0)
                {
                    return Invalid("malformed quoted string in chunk extension");
                }

                rest = rest[quotedLength..];
            }
            else
            {
                int valueLength = TokenLength(rest);
                if (valueLength == 0)
                {
                    return Invalid("empty chunk extension value");
                }

                rest = rest[valueLength..];
            }
        }

        return default;
    }

    /// <summary>Length of a quoted-string at the start of <paramref name="text"/> (RFC 9110 5.6.4), or -1 when it is malformed or unterminated.</summary>
    internal static int QuotedStringLength(ReadOnlySpan<byte> text)
    {
        for (int i = 1; i < text.Length; i++)
        {
            byte b = text[i];
            if (b == (byte)'"')
            {
                return i + 1;
            }

            if (b == (byte)'\\')
            {
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                if (++i == text.Length || !IsQuotedPairChar(text[i]))
                {
                    return -1;
                }
            }
            else if (!IsQdText(b))
            {
                return -1;
            }
        }

        return -1;
    }

    private static bool IsQdText(byte b) => b == HttpChars.HTAB || b == HttpChars.SP || b == 0x21 || (b >= 0x23 && b <= 0x5B) || (b >= 0x5D && b <= 0x7E) || b >= 0x80;

    private static bool IsQuotedPairChar(byte b) => b == HttpChars.HTAB || (b >= 0x20 && b != 0x7F);

    private static int TokenLength(ReadOnlySpan<byte> text)
    {
        int end = text.IndexOfAnyExcept(HttpChars.Token);
        return end < 0 ? text.Length : end;
    }

    private static ReadOnlySpan<byte> SkipWhitespace(ReadOnlySpan<byte> text)
    {
        int start = text.IndexOfAnyExcept(HttpChars.Whitespace);
        return start < 0 ? [] : text[start..];
    }

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;

    private static HttpParseError Invalid(string reason) => new(HttpParseErrorKind.InvalidChunkedBody, reason);
}
