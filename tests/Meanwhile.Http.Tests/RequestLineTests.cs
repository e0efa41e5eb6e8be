
namespace Meanwhile.Http.Tests;

public sealed class RequestLineTests
{
    [Fact]
    public void Simple_get_keeps_method_target_and_version_as_received()
    {
        ParsedMessage request = Expect.Accepted("GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(["GET", "/a?b=1", "HTTP/1.1"], request.StartLine);
        Assert.Equal(HttpBodyFraming.None, request.Framing);
    }

    [Theory]
    [InlineData("OPTIONS * HTTP/1.1", HttpRequestTargetForm.Asterisk)]
    [InlineData("GET http://example.com/x?y HTTP/1.1", HttpRequestTargetForm.Absolute)]
    [InlineData("GET /x HTTP/1.1", HttpRequestTargetForm.Origin)]
    [InlineData("CONNECT example.com:443 HTTP/1.1", HttpRequestTargetForm.Authority)]
    [InlineData("CONNECT [::1]:443 HTTP/1.1", HttpRequestTargetForm.Authority)]
    public void Request_target_forms_are_recognised(string requestLine, HttpRequestTargetForm form)
    {
        using var parser = new HttpRequestParser();
        byte[] raw = Latin1.Bytes(requestLine + "\r\nHost: example.com\r\n\r\n");
        Assert.Equal(HttpParseStatus.HeadComplete, parser.Parse(raw, out int consumed, out _));
        Assert.Equal(raw.Length, consumed);
        Assert.Equal(form, parser.Head.TargetForm);
        Expect.Accepted(Latin1.Text(raw));
    }

    [Theory]
    [InlineData("GET * HTTP/1.1", "asterisk-form is only for OPTIONS")]
    [InlineData("PRI * HTTP/1.1", "asterisk-form is only for OPTIONS")]
    [InlineData("CONNECT /x HTTP/1.1", "CONNECT needs an authority-form target (host:port)")]
    [InlineData("CONNECT example.com HTTP/1.1", "CONNECT needs an authority-form target (host:port)")]
    [InlineData("GET example.com HTTP/1.1", "request-target is not origin-form, absolute-form, authority-form or asterisk-form")]
    [InlineData("GET 1http://x/ HTTP/1.1", "request-target is not origin-form, absolute-form, authority-form or asterisk-form")]
    [InlineData("GET /foo bar HTTP/1.1", "invalid character in request-target")]
    [InlineData("GET  / HTTP/1.1", "invalid character in request-target")]
    [InlineData("GET /\u007f HTTP/1.1", "invalid character in request-target")]
    [InlineData("GET /\u0001 HTTP/1.1", "invalid character in request-target")]
    public void Invalid_targets_get_400(string requestLine, string reason)
    {
        HttpParseError error = Expect.Rejected(requestLine + "\r\nHost: x\r\n\r\n", 400, HttpParseErrorKind.InvalidRequestTarget);
        Assert.Equal(reason, error.Reason);
    }

    [Theory]
    [InlineData("GET /")]
    [InlineData("GET")]
    [InlineData("GET / HTTP/1.1 ")]
    [InlineData(" GET / HTTP/1.1")]
    [InlineData("G@T / HTTP/1.1")]
    [InlineData("GET / http/1.1")]
    [InlineData("GET / HTTP/1.1x")]
    [InlineData("GET / HTTP/11")]
    [InlineData("GET / ICE/1.0")]
    [InlineData("GET / IHTTP/1.0")]
    [InlineData("GET / HTTP/1.")]
    public void Malformed_request_lines_get_400(string requestLine)
    {
        Expect.Rejected(requestLine + "\r\nHost: x\r\n\r\n", 400, HttpParseErrorKind.InvalidRequestLine);
    }

    [Theory]
    [InlineData("HTTP/2.0")]
    [InlineData("HTTP/5.6")]
    [InlineData("HTTP/1.2")]
    [InlineData("HTTP/0.9")]
    public void Other_http_versions_get_505(string version)
    {
        Expect.Rejected($"GET / {version}\r\nHost: x\r\n\r\n", 505, HttpParseErrorKind.UnsupportedVersion);
    }

    [Fact]
    public void Http10_is_accepted_without_host()
    {
        ParsedMessage request = Expect.Accepted("GET /x HTTP/1.0\r\n\r\n");
        Assert.Equal("HTTP/1.0", request.Version);
        Assert.Empty(request.Headers);
    }

    [Fact]
    public void Any_token_is_a_method()
    {
        Assert.Equal("M-SEARCH", Expect.Accepted("M-SEARCH /x HTTP/1.1\r\nHost: x\r\n\r\n").Method);
        Assert.Equal("get", Expect.Accepted("get /x HTTP/1.1\r\nHost: x\r\n\r\n").Method);
    }

    [Fact]
    public void A_target_is_kept_byte_for_byte_escapes_included()
    {
        ParsedMessage request = Expect.Accepted("GET /%CE%B4/a%2Fb?q=%7C&r=/?:@!$'()*+,;= HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("/%CE%B4/a%2Fb?q=%7C&r=/?:@!$'()*+,;=", request.Target);
    }

    [Fact]
    public void Empty_lines_before_the_request_line_are_ignored()
    {
        Assert.Equal("/x", Expect.Accepted("\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n").Target);
    }

    [Fact]
    public void Endless_empty_lines_are_refused()
    {
        var limits = new HttpParserLimits { MaxStartLineBytes = 16 };
        Expect.Rejected(string.Concat(Enumerable.Repeat("\r\n", 9)), 400, HttpParseErrorKind.InvalidRequestLine, limits);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\nHost: x\r\n\r\n", "bare LF (line not ended by CRLF)")]
    [InlineData("GET / HTTP/1.1\rHost: x\r\n\r\n", "bare CR (CR not followed by LF)")]
    [InlineData("GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", "bare CR (CR not followed by LF)")]
    [InlineData("\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "bare LF (line not ended by CRLF)")]
    public void Bare_cr_or_lf_in_the_request_line_gets_400(string raw, string reason)
    {
        Assert.Equal(reason, Expect.Rejected(raw, 400, HttpParseErrorKind.InvalidRequestLine).Reason);
    }

    [Fact]
    public void A_bare_cr_is_refused_as_soon_as_the_next_byte_arrives()
    {
        using var parser = new HttpRequestParser();
        Assert.Equal(HttpParseStatus.NeedMoreData, parser.Parse("GET / HTTP/1.1\r"u8, out _, out _));
        Assert.Equal(HttpParseStatus.Error, parser.Parse("X"u8, out _, out _));
    }

    [Fact]
    public void Request_line_longer_than_the_limit_gets_414_before_it_ends()
    {
        var limits = new HttpParserLimits { MaxStartLineBytes = 32 };
        using var parser = new HttpRequestParser(limits);
        byte[] line = Latin1.Bytes("GET /" + new string('a', 40));
        Assert.Equal(HttpParseStatus.Error, parser.Parse(line, out _, out _));
        Assert.Equal(414, parser.Error.StatusCode);
        Assert.Equal(HttpParseErrorKind.StartLineTooLong, parser.Error.Kind);

        Expect.Rejected("GET /" + new string('a', 40) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, HttpParseErrorKind.StartLineTooLong, limits);
    }

    [Fact]
    public void Request_line_exactly_at_the_limit_is_accepted()
    {
        string line = "GET /" + new string('a', 18) + " HTTP/1.1";
        Assert.Equal(32, line.Length);
        Expect.Accepted(line + "\r\nHost: x\r\n\r\n", new HttpParserLimits { MaxStartLineBytes = 32 });
    }
}
