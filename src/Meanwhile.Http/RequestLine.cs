namespace Meanwhile.Http;

/// <summary>
/// Parses <c>method SP request-target SP HTTP-version</c> (RFC 9112 3) with exactly one SP between parts,
/// and classifies the request-target form (RFC 9112 3.2, <see cref="RequestTarget"/>).
/// </summary>
internal static class RequestLine
{
    /// <summary>Parses the request line at <paramref name="offset"/> of the head store into <paramref name="head"/>.</summary>
    internal static HttpParseError Parse(ReadOnlySpan<byte> line, int offset, HttpRequestHead head)
    {
        int firstSpace = line.IndexOf(HttpChars.SP);
        int lastSpace = line.LastIndexOf(HttpChars.SP);
        if (firstSpace < 0 || lastSpace == firstSpace)
        {
            // "GET /" alone is an HTTP/0.9 simple request, which is not HTTP/1.x (RFC 9112 3).
            return Invalid("request line needs a method, a request-target and an HTTP version");
        }

        ReadOnlySpan<byte> method = line[..firstSpace];
        ReadOnlySpan<byte> target = line[(firstSpace + 1)..lastSpace];
        ReadOnlySpan<byte> version = line[(lastSpace + 1)..];

        HttpParseError versionError = ParseVersion(version, out HttpProtocolVersion parsedVersion);
        if (versionError.IsError)
        {
            return versionError;
        }

        if (!HttpChars.IsToken(method))
        {
            return Invalid("method is not a token");
        }

        if (target.IsEmpty || target.ContainsAnyExcept(HttpChars.Target))
        {
            // Also catches "GET  / HTTP/1.1" and "GET /a b HTTP/1.1": the extra SP lands in the target.
            return new HttpParseError(HttpParseErrorKind.InvalidRequestTarget, "invalid character in request-target");
        }

        HttpParseError formError = RequestTarget.Classify(method, target, out HttpRequestTargetForm form);
        if (formError.IsError)
        {
            return formError;
        }

        head.MethodSegment = new Segment(offset, method.Length);
        head.TargetSegment = new Segment(offset + firstSpace + 1, target.Length);
        head.VersionSegment = new Segment(offset + lastSpace + 1, version.Length);
        head.Version = parsedVersion;
        head.TargetForm = form;
        return default;
    }

    /// <summary>Parses <c>HTTP/DIGIT.DIGIT</c>: 1.0 and 1.1 are spoken, any other well-formed version gets 505.</summary>
    internal static HttpParseError ParseVersion(ReadOnlySpan<byte> version, out HttpProtocolVersion parsed)
    {
        parsed = HttpProtocolVersion.Http11;
        if (!IsWellFormedVersion(version))
        {
            return Invalid("invalid HTTP version");
        }

        if (version[5] == (byte)'1' && version[7] == (byte)'1')
        {
            return default;
        }

        if (version[5] == (byte)'1' && version[7] == (byte)'0')
        {
            parsed = HttpProtocolVersion.Http10;
            return default;
        }

        return new HttpParseError(HttpParseErrorKind.UnsupportedVersion, "HTTP version not supported");
    }

    /// <summary>True for <c>HTTP/DIGIT.DIGIT</c> (RFC 9112 2.3; the name is case-sensitive).</summary>
    internal static bool IsWellFormedVersion(ReadOnlySpan<byte> version) =>
        version.Length == 8 && version.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)version[5]) && version[6] == (byte)'.' && char.IsAsciiDigit((char)version[7]);

    private static HttpParseError Invalid(string reason) => new(HttpParseErrorKind.InvalidRequestLine, reason);
}
