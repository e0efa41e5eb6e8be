namespace Meanwhile.Http;

/// <summary>
/// The request-target, branch by branch (RFC 9112 3.2): which of the four forms it has, whether its bytes follow that
/// form's grammar, and whether the method may use it. Every refusal is a 400 (RFC 9112 3: a recipient of an invalid
/// request-line should answer 400).
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>form</term><description>allowed with</description></listheader>
/// <item><term>origin-form <c>/path?query</c> (3.2.1)</term><description>every method but CONNECT</description></item>
/// <item><term>absolute-form <c>http://host/path?query</c> (3.2.2)</term><description>every method but CONNECT; an http or https URI with a host and no userinfo (RFC 9110 4.2)</description></item>
/// <item><term>authority-form <c>host:port</c> (3.2.3)</term><description>CONNECT only, and CONNECT only takes it</description></item>
/// <item><term>asterisk-form <c>*</c> (3.2.4)</term><description>OPTIONS only</description></item>
/// </list>
/// Paths and queries are held to RFC 3986: pchar, "/" and "?", with every "%" starting a two-digit escape. Bytes
/// outside ASCII, a fragment ("#"), and the characters URI syntax leaves out (<c>" &lt; &gt; [ ] \ ^ ` { | }</c>) must be
/// percent-encoded by the client.
/// </remarks>
internal static class RequestTarget
{
    /// <summary>Classifies <paramref name="target"/> (non-empty, visible bytes only) sent with <paramref name="method"/>.</summary>
    internal static HttpParseError Classify(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, out HttpRequestTargetForm form)
    {
        if (method.SequenceEqual("CONNECT"u8))
        {
            form = HttpRequestTargetForm.Authority;
            return FieldSemantics.IsValidHost(target, portRequired: true)
                ? default
                : Invalid("CONNECT needs an authority-form target (host:port)");
        }

        if (target[0] == (byte)'/')
        {
            form = HttpRequestTargetForm.Origin;
            return CheckPathAndQuery(target);
        }

        if (target.Length == 1 && target[0] == (byte)'*')
        {
            form = HttpRequestTargetForm.Asterisk;
            return method.SequenceEqual("OPTIONS"u8) ? default : Invalid("asterisk-form is only for OPTIONS");
        }

        if (StartsWithIgnoreCase(target, "http://"u8) || StartsWithIgnoreCase(target, "https://"u8))
        {
            form = HttpRequestTargetForm.Absolute;
            return CheckHttpUri(target[(target.IndexOf(HttpChars.Colon) + 3)..]);
        }

        if (FieldSemantics.IsValidHost(target, portRequired: true))
        {
            form = HttpRequestTargetForm.Authority;
            return Invalid("authority-form is only for CONNECT");
        }

        form = HttpRequestTargetForm.Absolute;
        int colon = target.IndexOf(HttpChars.Colon);
        if (colon > 0 && char.IsAsciiLetter((char)target[0]) && !target[1..colon].ContainsAnyExcept(HttpChars.SchemeTail))
        {
            return Invalid("absolute-form takes an http or https URI only");
        }

        return Invalid("request-target is not origin-form, absolute-form, authority-form or asterisk-form");
    }

    /// <summary>
    /// The part of an http(s) URI after "//": authority, then path-abempty and an optional query. The host must not be
    /// empty (RFC 9110 4.2.1), and userinfo is refused, as RFC 9110 4.2.4 tells a recipient to treat it as an error.
    /// </summary>
    private static HttpParseError CheckHttpUri(ReadOnlySpan<byte> rest)
    {
        int end = rest.IndexOfAny((byte)'/', (byte)'?');
        var authority = end < 0 ? rest : rest[..end];
        if (authority.Contains((byte)'@'))
        {
            return Invalid("absolute-form URI carries userinfo");
        }

        if (authority.IsEmpty || !FieldSemantics.IsValidHost(authority, portRequired: false))
        {
            return Invalid("absolute-form URI needs a valid host");
        }

        return end < 0 ? default : CheckPathAndQuery(rest[end..]);
    }

    /// <summary>path-abempty [ "?" query ] (RFC 3986 3.3, 3.4): pchar, "/" and "?", and well-formed escapes.</summary>
    private static HttpParseError CheckPathAndQuery(ReadOnlySpan<byte> pathAndQuery)
    {
        int bad = pathAndQuery.IndexOfAnyExcept(HttpChars.PathAndQuery);
        if (bad >= 0)
        {
            return Invalid(pathAndQuery[bad] == (byte)'#' ? "request-target carries a fragment" : "invalid character in request-target");
        }

        return HttpChars.HasValidEscapes(pathAndQuery) ? default : Invalid("invalid percent-encoding in request-target");
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> prefix) =>
        value.Length >= prefix.Length && System.Text.Ascii.EqualsIgnoreCase(value[..prefix.Length], prefix);

    private static HttpParseError Invalid(string reason) => new(HttpParseErrorKind.InvalidRequestTarget, reason);
}
