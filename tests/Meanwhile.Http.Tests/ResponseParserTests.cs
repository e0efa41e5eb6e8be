
namespace Meanwhile.Http.Tests;

public sealed class ResponseParserTests
{
    [Fact]
    public void Status_line_and_content_length_body()
    {
        ParsedMessage response = Splits.Responses("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhello").Single;
        Assert.Equal(["HTTP/1.1", "200", "OK"], response.StartLine);
        Assert.Equal([("Content-Length", "5"), ("X-A", "b")], response.Headers);
        Assert.Equal("hello", Latin1.Text(response.Body));
        Assert.True(response.KeepAlive);
    }

    [Theory]
    [InlineData("HTTP/1.1 404 \r\n", "404", "")]
    [InlineData("HTTP/1.1 404\r\n", "404", "")]
    [InlineData("HTTP/1.1 500 Internal  Server\tError\r\n", "500", "Internal  Server\tError")]
    [InlineData("HTTP/1.0 200 Caf\u00e9\r\n", "200", "Caf\u00e9")]
    public void Reason_phrase_may_be_empty_or_hold_spaces_and_obs_text(string statusLine, string status, string reason)
    {
        ParsedMessage response = Splits.Responses(statusLine + "Content-Length: 0\r\n\r\n").Single;
        Assert.Equal(status, response.StartLine[1]);
        Assert.Equal(reason, response.StartLine[2]);
    }

    [Theory]
    [InlineData("HTTP/1.1 20 OK\r\n")]
    [InlineData("HTTP/1.1 2000 OK\r\n")]
    [InlineData("HTTP/1.1 abc OK\r\n")]
    [InlineData("HTTP/1.1 099 OK\r\n")]
    [InlineData("HTTP/1.1  200 OK\r\n")]
    [InlineData("HTTP/1.1 200 O\u0001K\r\n")]
    [InlineData("HTTP/1.1\r\n")]
    [InlineData("http/1.1 200 OK\r\n")]
    [InlineData("ICY 200 OK\r\n")]
    [InlineData("HTTP/1.1 200 OK\n")]
    public void Malformed_status_lines_are_errors(string statusLine)
    {
        Transcript transcript = Splits.Responses(statusLine + "Content-Length: 0\r\n\r\n");
        Assert.Equal(Ending.Error, transcript.Ending);
        Assert.Equal(HttpParseErrorKind.InvalidStatusLine, transcript.Error.Kind);
    }

    [Fact]
    public void Http2_status_line_is_an_unsupported_version()
    {
        Assert.Equal(HttpParseErrorKind.UnsupportedVersion, Splits.Responses("HTTP/2.0 200 OK\r\n\r\n").Error.Kind);
    }

    [Fact]
    public void Chunked_response_with_trailers()
    {
        ParsedMessage response = Splits.Responses("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n").Single;
        Assert.Equal("abc", Latin1.Text(response.Body));
        Assert.Equal([("X-Checksum", "1")], response.Trailers);
    }

    [Fact]
    public void Body_until_close_ends_with_end_of_input()
    {
        Transcript transcript = Splits.Responses("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this\r\nis body", endOfInput: true);
        ParsedMessage response = transcript.Single;
        Assert.Equal(HttpBodyFraming.UntilClose, response.Framing);
        Assert.Equal("all of this\r\nis body", Latin1.Text(response.Body));
        Assert.False(response.KeepAlive);
    }

    [Fact]
    public void Chunked_not_last_means_until_close_for_a_response()
    {
        ParsedMessage response = Splits.Responses("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz", endOfInput: true).Single;
        Assert.Equal(HttpBodyFraming.UntilClose, response.Framing);
        Assert.Equal("xyz", Latin1.Text(response.Body));
    }

    [Fact]
    public void Truncated_body_is_an_error_not_a_short_result()
    {
        Transcript transcript = Splits.Responses("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", endOfInput: true);
        Assert.Empty(transcript.Messages);
        Assert.Equal(HttpParseErrorKind.IncompleteMessage, transcript.Error.Kind);

        Transcript chunked = Splits.Responses("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", endOfInput: true);
        Assert.Equal(HttpParseErrorKind.IncompleteMessage, chunked.Error.Kind);
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", "GET")]
    [InlineData("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD")]
    [InlineData("HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT")]
    public void Responses_without_a_body(string raw, string method)
    {
        Transcript transcript = Splits.Responses(raw + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", method);
        Assert.Equal(2, transcript.Messages.Count);
        Assert.Equal(HttpBodyFraming.None, transcript.Messages[0].Framing);
        Assert.Empty(transcript.Messages[0].Body);
    }

    [Fact]
    public void Interim_responses_precede_the_final_one()
    {
        Transcript transcript = Splits.Responses("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
        Assert.Equal(["100", "103", "201"], transcript.Messages.Select(m => m.StartLine[1]));
        Assert.Equal("ok", Latin1.Text(transcript.Messages[2].Body));

        using var parser = new HttpResponseParser();
        parser.Parse("HTTP/1.1 100 Continue\r\n\r\n"u8, out _, out _);
        Assert.True(parser.Head.IsInterim);
    }

    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", HttpParseErrorKind.ConflictingFraming)]
    [InlineData("Content-Length: 3\r\nContent-Length: 4\r\n", HttpParseErrorKind.InvalidContentLength)]
    [InlineData("Content-Length: 3,3\r\n", HttpParseErrorKind.InvalidContentLength)]
    [InlineData("X : y\r\n", HttpParseErrorKind.InvalidField)]
    [InlineData("X: y\r\n z\r\n", HttpParseErrorKind.InvalidField)]
    [InlineData("Transfer-Encoding: chunked, chunked\r\n", HttpParseErrorKind.InvalidTransferEncoding)]
    public void Response_fields_follow_the_same_rules(string fields, HttpParseErrorKind kind)
    {
        Assert.Equal(kind, Splits.Responses("HTTP/1.1 200 OK\r\n" + fields + "\r\nabc").Error.Kind);
    }

    [Fact]
    public void Http10_response_closes_unless_keep_alive()
    {
        Assert.False(Splits.Responses("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").Single.KeepAlive);
        Assert.True(Splits.Responses("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").Single.KeepAlive);
        Assert.False(Splits.Responses("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").Single.KeepAlive);
    }

    [Fact]
    public void Response_without_host_is_fine()
    {
        Assert.Single(Splits.Responses("HTTP/1.1 200 OK\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n").Messages);
    }

    [Fact]
    public void Until_close_body_respects_the_body_limit()
    {
        var limits = new HttpParserLimits { MaxBodyBytes = 4 };
        Transcript transcript = Splits.Responses("HTTP/1.1 200 OK\r\n\r\n12345", endOfInput: true, limits: limits);
        Assert.Equal(HttpParseErrorKind.BodyTooLarge, transcript.Error.Kind);
    }
}
