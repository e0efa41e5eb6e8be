
namespace Meanwhile.Http.Tests;

public sealed class ConnectionSemanticsTests
{
    [Theory]
    [InlineData("HTTP/1.1", "", true)]
    [InlineData("HTTP/1.1", "Connection: close\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: CLOSE\t\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: keep-alive\r\n", true)]
    [InlineData("HTTP/1.1", "Connection: close, token, upgrade, token, keep-alive\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: upgrade\r\nConnection: close\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: closed\r\n", true)]
    [InlineData("HTTP/1.0", "", false)]
    [InlineData("HTTP/1.0", "Connection: keep-alive\r\n", true)]
    [InlineData("HTTP/1.0", "Connection: Keep-Alive , foo\r\n", true)]
    [InlineData("HTTP/1.0", "Connection: keep-alive, close\r\n", false)]
    public void Keep_alive_decision(string version, string fields, bool keepAlive)
    {
        Assert.Equal(keepAlive, Expect.Accepted($"GET / {version}\r\nHost: x\r\n{fields}\r\n").KeepAlive);
    }

    [Fact]
    public void Nothing_after_a_closing_request_is_parsed()
    {
        Transcript transcript = Splits.Requests("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\u0001garbage");
        Assert.Equal(Ending.Closed, transcript.Ending);
        Assert.Equal("/a", transcript.Single.Target);
    }

    [Theory]
    [InlineData("HTTP/1.1", "Expect: 100-continue\r\n", true)]
    [InlineData("HTTP/1.1", "Expect: 100-Continue \r\n", true)]
    [InlineData("HTTP/1.1", "", false)]
    [InlineData("HTTP/1.1", "Expect: something-else\r\n", false)]
    [InlineData("HTTP/1.0", "Expect: 100-continue\r\n", false)]
    public void Expect_100_continue_detection(string version, string fields, bool expectsContinue)
    {
        ParsedMessage request = Expect.Accepted($"POST / {version}\r\nHost: x\r\n{fields}Content-Length: 1\r\n\r\na");
        Assert.Equal(expectsContinue, request.ExpectsContinue);
    }

    [Fact]
    public void Head_reports_whether_a_body_follows_before_it_arrives()
    {
        using var parser = new HttpRequestParser();
        Assert.Equal(HttpParseStatus.HeadComplete, parser.Parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"u8, out _, out _));
        Assert.True(parser.Head.HasBody);
        Assert.True(parser.Head.ExpectsContinue);
        Assert.Equal(2, parser.Head.ContentLength);
        Assert.Equal(HttpParseStatus.NeedMoreData, parser.Parse([], out _, out _));
        Assert.False(parser.IsIdle);

        using var other = new HttpRequestParser();
        Assert.Equal(HttpParseStatus.HeadComplete, other.Parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"u8, out _, out _));
        Assert.False(other.Head.HasBody);
        Assert.Equal(HttpParseStatus.MessageComplete, other.Parse([], out _, out _));
        Assert.True(other.IsIdle);
    }

    [Fact]
    public void Upgrade_is_reported_but_does_not_change_parsing()
    {
        Transcript transcript = Splits.Requests("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(2, transcript.Messages.Count);
        using var parser = new HttpRequestParser();
        parser.Parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"u8, out _, out _);
        Assert.True(parser.Head.ConnectionUpgrade);
    }

    [Fact]
    public void Pipelined_requests_come_out_in_order_with_their_bodies()
    {
        Transcript transcript = Splits.Requests(
            "POST /aaa HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nAAA\r\n"
            + "PUT /bbb HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nBBBB\r\n0\r\n\r\n"
            + "GET /ccc HTTP/1.1\r\nHost: x\r\n\r\n"
            + "PATCH /ddd HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nDDDD");
        Assert.Equal(["/aaa", "/bbb", "/ccc"], transcript.Messages.Select(m => m.Target));
        Assert.Equal(["AAA", "BBBB", ""], transcript.Messages.Select(m => Latin1.Text(m.Body)));
        Assert.Equal(Ending.NeedMoreData, transcript.Ending);
        Assert.True(transcript.MidMessage);
    }

    [Fact]
    public void End_of_input_between_messages_is_a_clean_close()
    {
        using var parser = new HttpRequestParser();
        Assert.Equal(HttpParseStatus.EndOfStream, parser.EndOfInput());

        using var afterMessage = new HttpRequestParser();
        afterMessage.Parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8, out _, out _);
        Assert.Equal(HttpParseStatus.MessageComplete, afterMessage.Parse([], out _, out _));
        Assert.Equal(HttpParseStatus.NeedMoreData, afterMessage.Parse("\r\n"u8, out _, out _));
        Assert.Equal(HttpParseStatus.EndOfStream, afterMessage.EndOfInput());
    }

    [Theory]
    [InlineData("GET / HTT", "connection closed inside the message head")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n", "connection closed inside the message head")]
    [InlineData("GET / HTTP/1.1\r", "connection closed inside the message head")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab", "connection closed inside the message body")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "connection closed inside the message body")]
    public void End_of_input_inside_a_message_is_an_incomplete_message(string raw, string reason)
    {
        using var parser = new HttpRequestParser();
        ReadOnlySpan<byte> data = Latin1.Bytes(raw);
        while (parser.Parse(data, out int consumed, out _) != HttpParseStatus.NeedMoreData)
        {
            data = data[consumed..];
        }

        Assert.Equal(HttpParseStatus.Error, parser.EndOfInput());
        Assert.Equal(HttpParseErrorKind.IncompleteMessage, parser.Error.Kind);
        Assert.Equal(reason, parser.Error.Reason);
    }

    [Fact]
    public void After_an_error_the_parser_stays_failed_until_reset()
    {
        using var parser = new HttpRequestParser();
        Assert.Equal(HttpParseStatus.Error, parser.Parse("BAD\r\n"u8, out _, out _));
        Assert.Equal(HttpParseStatus.Error, parser.Parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8, out int consumed, out _));
        Assert.Equal(0, consumed);
        parser.Reset();
        Assert.False(parser.Error.IsError);
        Assert.Equal(HttpParseStatus.HeadComplete, parser.Parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8, out _, out _));
    }

    [Fact]
    public void Buffers_can_be_released_between_messages_only()
    {
        using var parser = new HttpRequestParser();
        Assert.True(parser.ReleaseBuffers());
        parser.Parse("GET / HTTP/1.1\r\nHo"u8, out _, out _);
        Assert.False(parser.ReleaseBuffers());
        parser.Parse("st: x\r\n\r\n"u8, out _, out _);
        Assert.Equal(HttpParseStatus.MessageComplete, parser.Parse([], out _, out _));
        Assert.True(parser.ReleaseBuffers());
        Assert.Equal(HttpParseStatus.HeadComplete, parser.Parse("GET /next HTTP/1.1\r\nHost: x\r\n\r\n"u8, out _, out _));
        Assert.Equal("/next", Latin1.Text(parser.Head.Target));
    }
}
