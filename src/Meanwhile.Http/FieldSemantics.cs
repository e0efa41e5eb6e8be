namespace Meanwhile.Http;

/// <summary>
/// Reads the header fields that decide framing and connection handling (Host, Content-Length,
/// Transfer-Encoding, Connection, Expect) as each one arrives, and rejects the combinations that open
/// the door to request smuggling as early as possible.
/// </summary>
internal static class FieldSemantics
{
    /// <summary>Folds one header field into <paramref name="facts"/>.</summary>
    /// <returns>An error, or <c>default</c> when the field is acceptable.</returns>
    internal static HttpParseError Observe(ref FieldFacts facts, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool isRequest)
    {
        // Dispatch on length first: almost every field is rejected by one integer compare.
        switch (name.Length)
        {
            case 4 when isRequest && HttpField.EqualsIgnoreCase(name, "Host"u8):
                return ObserveHost(ref facts, value);
            case 6 when HttpField.EqualsIgnoreCase(name, "Expect"u8):
                facts.ExpectContinue |= ListContains(value, "100-continue"u8);
                return default;
            case 10 when HttpField.EqualsIgnoreCase(name, "Connection"u8):
                ObserveConnection(ref facts, value);
                return default;
            case 14 when HttpField.EqualsIgnoreCase(name, "Content-Length"u8):
                return ObserveContentLength(ref facts, value);
            case 17 when HttpField.EqualsIgnoreCase(name, "Transfer-Encoding"u8):
                return ObserveTransferEncoding(ref facts, value);
            default:
                return default;
        }
    }

    private static HttpParseError ObserveHost(ref FieldFacts facts, ReadOnlySpan<byte> value)
    {
        // RFC 9112 3.2: more than one Host line, or an invalid value, MUST get a 400.
        if (++facts.HostCount > 1)
        {
            return new HttpParseError(HttpParseErrorKind.InvalidHost, "more than one Host header field");
        }

        if (!IsValidHost(value, portRequired: false))
        {
            return new HttpParseError(HttpParseErrorKind.InvalidHost, "invalid Host header field value");
        }

        return default;
    }

    /// <summary>Checks uri-host [":" port] (RFC 9110 7.2, RFC 3986 3.2.2: a "%" starts a two-digit escape); an empty Host is allowed (RFC 9112 3.2).</summary>
    internal static bool IsValidHost(ReadOnlySpan<byte> value, bool portRequired)
    {
        if (value.IsEmpty)
        {
            return !portRequired;
        }

        if (IsPlainHostAndPort(value, portRequired))
        {
            return true; // the usual "name:port" or "a.b.c.d:port": judged in one pass
        }

        if (value.ContainsAnyExcept(HttpChars.Authority) || !HttpChars.HasValidEscapes(value))
        {
            return false;
        }

        ReadOnlySpan<byte> host = value;
        int bracketEnd = value[0] == (byte)'[' ? value.IndexOf((byte)']') : -1;
        if (value[0] == (byte)'[' && bracketEnd < 0)
        {
            return false;
        }

        // The port separator is the last colon outside an IP-literal.
        int colon = value.LastIndexOf(HttpChars.Colon);
        if (colon > bracketEnd)
        {
            ReadOnlySpan<byte> port = value[(colon + 1)..];
            if (port.ContainsAnyExcept(HttpChars.DigitChars) || (portRequired && port.IsEmpty))
            {
                return false;
            }

            host = value[..colon];
        }
        else if (portRequired)
        {
            return false;
        }

        if (host.IsEmpty)
        {
            return false;
        }

        if (bracketEnd >= 0)
        {
            // An IP-literal is exactly "[...]"; brackets anywhere else are invalid.
            return bracketEnd == host.Length - 1 && host[1..^1].IndexOfAny((byte)'[', (byte)']') < 0;
        }

        return host.IndexOfAny((byte)'[', (byte)']') < 0 && host.IndexOf(HttpChars.Colon) < 0;
    }

    /// <summary>
    /// True for a reg-name or IPv4 address made of letters, digits, '-' and '.' only, then optionally ':' and digits (a
    /// non-empty host; the port may be empty unless required): valid whatever <see cref="IsValidHost"/> would check further. False is
    /// no verdict: anything else (escapes, brackets, other sub-delims) takes the full check.
    /// </summary>
    private static bool IsPlainHostAndPort(ReadOnlySpan<byte> value, bool portRequired)
    {
        int i = 0;
        for (; i < value.Length; i++)
        {
            uint b = value[i];
            if ((b | 0x20) - 'a' <= 'z' - 'a' || b - '0' <= 9 || b == '-' || b == '.') continue;
            break;
        }

        if (i == 0)
        {
            return false;
        }

        if (i == value.Length)
        {
            return !portRequired;
        }

        if (value[i] != HttpChars.Colon || (portRequired && i + 1 == value.Length))
        {
            return false;
        }

        for (i++; i < value.Length; i++)
        {
            if ((uint)(value[i] - '0') > 9) return false;
        }

        return true;
    }

    private static HttpParseError ObserveContentLength(ref FieldFacts facts, ReadOnlySpan<byte> value)
    {
        // RFC 9110 8.6: Content-Length = 1*DIGIT. A list ("5, 5") is refused outright: accepting it is how
        // some servers and proxies came to disagree about where a message ends.
        if (value.IsEmpty)
        {
            return new HttpParseError(HttpParseErrorKind.InvalidContentLength, "Content-Length is not a single run of digits");
        }

        long length = 0;
        foreach (byte digit in value)
        {
            int d = digit - '0';
            if ((uint)d > 9)
            {
                return new HttpParseError(HttpParseErrorKind.InvalidContentLength, "Content-Length is not a single run of digits");
            }

            if (length > (long.MaxValue - d) / 10)
            {
                if (value.ContainsAnyExcept(HttpChars.DigitChars))
                {
                    return new HttpParseError(HttpParseErrorKind.InvalidContentLength, "Content-Length is not a single run of digits");
                }

                return new HttpParseError(HttpParseErrorKind.InvalidContentLength, "Content-Length overflows");
            }

            length = (length * 10) + d;
        }

        if (facts.ContentLength >= 0 && facts.ContentLength != length)
        {
            return new HttpParseError(HttpParseErrorKind.InvalidContentLength, "differing Content-Length values");
        }

        facts.ContentLength = length;
        return default;
    }

    private static HttpParseError ObserveTransferEncoding(ref FieldFacts facts, ReadOnlySpan<byte> value)
    {
        facts.HasTransferEncoding = true;

        // Repeated field lines combine into one list (RFC 9110 5.3), so codings are read in arrival order across lines.
        while (!value.IsEmpty)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> element = HttpChars.TrimWhitespace(comma < 0 ? value : value[..comma]);
            value = comma < 0 ? [] : value[(comma + 1)..];
            if (element.IsEmpty)
            {
                continue; // Empty list elements are ignored (RFC 9110 5.6.1).
            }

            int semicolon = element.IndexOf((byte)';');
            ReadOnlySpan<byte> coding = semicolon < 0 ? element : HttpChars.TrimWhitespace(element[..semicolon]);
            if (!HttpChars.IsToken(coding))
            {
                return new HttpParseError(HttpParseErrorKind.InvalidTransferEncoding, "invalid transfer coding name");
            }

            if (HttpField.EqualsIgnoreCase(coding, "chunked"u8))
            {
                if (facts.ChunkedSeen)
                {
                    return new HttpParseError(HttpParseErrorKind.InvalidTransferEncoding, "chunked applied more than once");
                }

                if (semicolon >= 0)
                {
                    return new HttpParseError(HttpParseErrorKind.InvalidTransferEncoding, "chunked takes no parameters");
                }

                facts.ChunkedSeen = true;
                facts.ChunkedLast = true;
            }
            else
            {
                facts.ChunkedLast = false;
                facts.OtherCoding = true;
            }
        }

        return default;
    }

    private static void ObserveConnection(ref FieldFacts facts, ReadOnlySpan<byte> value)
    {
        // The usual values, alone: no list to split.
        if (HttpField.EqualsIgnoreCase(value, "keep-alive"u8))
        {
            facts.ConnectionKeepAlive = true;
            return;
        }

        if (HttpField.EqualsIgnoreCase(value, "close"u8))
        {
            facts.ConnectionClose = true;
            return;
        }

        foreach (Range range in value.Split((byte)','))
        {
            ReadOnlySpan<byte> option = HttpChars.TrimWhitespace(value[range]);
            bool close = HttpField.EqualsIgnoreCase(option, "close"u8);
            bool keepAlive = HttpField.EqualsIgnoreCase(option, "keep-alive"u8);
            bool upgrade = HttpField.EqualsIgnoreCase(option, "upgrade"u8);
            facts.ConnectionClose |= close;
            facts.ConnectionKeepAlive |= keepAlive;
            facts.ConnectionUpgrade |= upgrade;
            facts.ConnectionOther |= !option.IsEmpty && !close && !keepAlive && !upgrade;
        }
    }

    private static bool ListContains(ReadOnlySpan<byte> list, ReadOnlySpan<byte> member)
    {
        foreach (Range range in list.Split((byte)','))
        {
            if (HttpField.EqualsIgnoreCase(HttpChars.TrimWhitespace(list[range]), member))
            {
                return true;
            }
        }

        return false;
    }
}
