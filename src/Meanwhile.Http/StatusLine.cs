namespace Meanwhile.Http;

/// <summary>Parses <c>HTTP-version SP 3DIGIT SP [ reason-phrase ]</c> (RFC 9112 4).</summary>
internal static class StatusLine
{
    /// <summary>Parses the status line at <paramref name="offset"/> of the head store into <paramref name="head"/>.</summary>
    internal static HttpParseError Parse(ReadOnlySpan<byte> line, int offset, HttpResponseHead head)
    {
        // "HTTP/1.1 200" is 12 bytes; some servers omit the SP before an empty reason phrase, which costs nothing to accept.
        if (line.Length < 12 || line[8] != HttpChars.SP || (line.Length > 12 && line[12] != HttpChars.SP))
        {
            return Invalid("malformed status line");
        }

        ReadOnlySpan<byte> version = line[..8];
        if (!RequestLine.IsWellFormedVersion(version))
        {
            return Invalid("invalid HTTP version in status line");
        }

        if (version[5] != (byte)'1')
        {
            return new HttpParseError(HttpParseErrorKind.UnsupportedVersion, "HTTP version not supported");
        }

        ReadOnlySpan<byte> code = line.Slice(9, 3);
        if (code.ContainsAnyExcept(HttpChars.DigitChars) || code[0] == (byte)'0')
        {
            return Invalid("status code is not three digits from 100 to 999");
        }

        ReadOnlySpan<byte> reason = line.Length > 12 ? line[13..] : [];
        if (reason.ContainsAnyExcept(HttpChars.FieldValue))
        {
            return Invalid("control character in reason phrase");
        }

        head.VersionSegment = new Segment(offset, 8);
        head.Version = version[7] == (byte)'0' ? HttpProtocolVersion.Http10 : HttpProtocolVersion.Http11;
        head.StatusCode = ((code[0] - '0') * 100) + ((code[1] - '0') * 10) + (code[2] - '0');
        head.ReasonSegment = new Segment(offset + Math.Min(line.Length, 13), reason.Length);
        return default;
    }

    private static HttpParseError Invalid(string reason) => new(HttpParseErrorKind.InvalidStatusLine, reason);
}
