namespace Meanwhile.Http.Tests;

/// <summary>
/// RFC 9112 3.2, branch by branch: each request-target form with each kind of method (an ordinary one, OPTIONS,
/// CONNECT), and the grammar of each form. What the RFC forbids gets 400 (RFC 9112 3).
/// </summary>
public sealed class RequestTargetTests
{
    public static TheoryData<string, string, HttpRequestTargetForm> Allowed => new()
    {
        // origin-form (3.2.1): every method but CONNECT.
        { "GET", "/where?q=now", HttpRequestTargetForm.Origin },
        { "POST", "/", HttpRequestTargetForm.Origin },
        { "HEAD", "//double//slashes/", HttpRequestTargetForm.Origin },
        { "M-SEARCH", "/x", HttpRequestTargetForm.Origin },
        { "get", "/x", HttpRequestTargetForm.Origin }, // methods are case-sensitive: an extension method
        { "OPTIONS", "/path", HttpRequestTargetForm.Origin },
        // absolute-form (3.2.2): every method but CONNECT; an http or https URI (RFC 9110 4.2).
        { "GET", "http://www.example.org/pub/WWW/TheProject.html", HttpRequestTargetForm.Absolute },
        { "DELETE", "https://example.org:8443/a?b", HttpRequestTargetForm.Absolute },
        { "GET", "HTTP://EXAMPLE.ORG", HttpRequestTargetForm.Absolute }, // schemes are case-insensitive
        { "GET", "http://hypnotoad.org?hail=all", HttpRequestTargetForm.Absolute },
        { "GET", "http://[::1]:8080/", HttpRequestTargetForm.Absolute },
        { "GET", "http://127.0.0.1/", HttpRequestTargetForm.Absolute },
        { "GET", "http://ex%41mple.org/", HttpRequestTargetForm.Absolute },
        { "OPTIONS", "http://www.example.org:8001", HttpRequestTargetForm.Absolute },
        // authority-form (3.2.3): CONNECT only.
        { "CONNECT", "www.example.com:80", HttpRequestTargetForm.Authority },
        { "CONNECT", "[2001:db8::1]:443", HttpRequestTargetForm.Authority },
        { "CONNECT", "home_0.netscape.com:443", HttpRequestTargetForm.Authority },
        // asterisk-form (3.2.4): OPTIONS only.
        { "OPTIONS", "*", HttpRequestTargetForm.Asterisk },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void A_form_its_method_may_use_is_parsed_and_kept_as_received(string method, string target, HttpRequestTargetForm form)
    {
        using var parser = new HttpRequestParser();
        byte[] raw = Latin1.Bytes($"{method} {target} HTTP/1.1\r\nHost: example.org\r\n\r\n");
        Assert.Equal(HttpParseStatus.HeadComplete, parser.Parse(raw, out _, out _));
        Assert.Equal(form, parser.Head.TargetForm);
        Assert.Equal(target, Latin1.Text(parser.Head.Target));
        Expect.Accepted(Latin1.Text(raw));
    }

    [Theory]
    // origin-form with CONNECT, and CONNECT with anything but host:port.
    [InlineData("CONNECT", "/x", "CONNECT needs an authority-form target (host:port)")]
    [InlineData("CONNECT", "http://example.com:443/", "CONNECT needs an authority-form target (host:port)")]
    [InlineData("CONNECT", "*", "CONNECT needs an authority-form target (host:port)")]
    [InlineData("CONNECT", "example.com", "CONNECT needs an authority-form target (host:port)")]
    [InlineData("CONNECT", "example.com:", "CONNECT needs an authority-form target (host:port)")]
    [InlineData("CONNECT", "user@example.com:443", "CONNECT needs an authority-form target (host:port)")]
    [InlineData("CONNECT", "ex%zzample.com:443", "CONNECT needs an authority-form target (host:port)")]
    // authority-form with any other method.
    [InlineData("GET", "www.example.com:80", "authority-form is only for CONNECT")]
    [InlineData("OPTIONS", "www.example.com:80", "authority-form is only for CONNECT")]
    [InlineData("POST", "[::1]:443", "authority-form is only for CONNECT")]
    [InlineData("connect", "www.example.com:80", "authority-form is only for CONNECT")]
    // asterisk-form with any method but OPTIONS.
    [InlineData("GET", "*", "asterisk-form is only for OPTIONS")]
    [InlineData("PRI", "*", "asterisk-form is only for OPTIONS")]
    [InlineData("options", "*", "asterisk-form is only for OPTIONS")]
    // absolute-form: http or https only, with a host, without userinfo.
    [InlineData("GET", "ftp://example.com/file", "absolute-form takes an http or https URI only")]
    [InlineData("GET", "urn:isbn:0451450523", "absolute-form takes an http or https URI only")]
    [InlineData("OPTIONS", "mailto:a@example.com", "absolute-form takes an http or https URI only")]
    [InlineData("GET", "http:/x", "absolute-form takes an http or https URI only")]
    [InlineData("GET", "http:///x", "absolute-form URI needs a valid host")]
    [InlineData("GET", "http://:80/x", "absolute-form URI needs a valid host")]
    [InlineData("GET", "http://exa mple/", "invalid character in request-target")]
    [InlineData("GET", "http://[::1/", "absolute-form URI needs a valid host")]
    [InlineData("GET", "http://host:8a/", "absolute-form URI needs a valid host")]
    [InlineData("GET", "http://ex%zzample/", "absolute-form URI needs a valid host")]
    [InlineData("GET", "http://user:pass@example.com/", "absolute-form URI carries userinfo")]
    [InlineData("GET", "http://a%12:b!&*$@hypnotoad.org:1234/toto", "absolute-form URI carries userinfo")]
    [InlineData("GET", "http://example.com/a#frag", "request-target carries a fragment")]
    [InlineData("GET", "http://example.com/\u00e9", "invalid character in request-target")]
    // origin-form: pchar, "/" and "?", and well-formed escapes (RFC 3986).
    [InlineData("GET", "/forums/1/topics/2375?page=1#posts-17408", "request-target carries a fragment")]
    [InlineData("GET", "/with_\"lovely\"_quotes", "invalid character in request-target")]
    [InlineData("GET", "/test.cgi?query=|", "invalid character in request-target")]
    [InlineData("GET", "/a?b[]=1", "invalid character in request-target")]
    [InlineData("GET", "/a\\b", "invalid character in request-target")]
    [InlineData("GET", "/<script>", "invalid character in request-target")]
    [InlineData("GET", "/{x}^`", "invalid character in request-target")]
    [InlineData("GET", "/\u00ce\u00b4", "invalid character in request-target")]
    [InlineData("GET", "/%", "invalid percent-encoding in request-target")]
    [InlineData("GET", "/%4", "invalid percent-encoding in request-target")]
    [InlineData("GET", "/%zz", "invalid percent-encoding in request-target")]
    [InlineData("GET", "/a?%G0", "invalid percent-encoding in request-target")]
    // none of the four forms.
    [InlineData("GET", "example.com", "request-target is not origin-form, absolute-form, authority-form or asterisk-form")]
    [InlineData("GET", "**", "request-target is not origin-form, absolute-form, authority-form or asterisk-form")]
    [InlineData("GET", "?q", "request-target is not origin-form, absolute-form, authority-form or asterisk-form")]
    public void A_form_the_rfc_forbids_with_its_method_or_broken_grammar_gets_400(string method, string target, string reason)
    {
        var error = Expect.Rejected($"{method} {target} HTTP/1.1\r\nHost: example.org\r\n\r\n", 400, HttpParseErrorKind.InvalidRequestTarget);
        Assert.Equal(reason, error.Reason);
    }

    [Fact]
    public void An_absolute_form_request_still_needs_a_host_field_in_http_1_1()
    {
        // RFC 9112 3.2: a server answers 400 to an HTTP/1.1 request without Host, whatever the target's form
        // (it then uses the target's authority and ignores the field, 3.2.2).
        Expect.Rejected("GET http://example.org/ HTTP/1.1\r\n\r\n", 400, HttpParseErrorKind.InvalidHost);
        Assert.Equal("/", Expect.Accepted("GET http://example.org/ HTTP/1.1\r\nHost: other.example\r\n\r\n").Target[^1..]);
    }

    [Theory]
    [InlineData("ex%zzample.org")]
    [InlineData("example.org%")]
    [InlineData("example.org:8a")]
    [InlineData("exa mple.org")]
    public void A_host_field_that_is_not_uri_host_and_port_gets_400(string host)
    {
        Expect.Rejected($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n", 400, HttpParseErrorKind.InvalidHost);
    }
}
