using System.Text;

namespace Meanwhile.Http.Tests;

/// <summary><see cref="HttpInputReader"/>: the read buffer and the parse loop both sides of a connection share.</summary>
public sealed class InputReaderTests
{
    private static void Receive(HttpInputReader reader, string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        bytes.CopyTo(reader.GetReadMemory().Span);
        reader.Advance(bytes.Length);
    }

    [Fact]
    public void Pipelined_requests_are_parsed_one_after_the_other_from_one_read()
    {
        using var parser = new HttpRequestParser();
        var reader = new HttpInputReader(parser, 1024);
        Assert.False(reader.HasBuffer);
        Receive(reader, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.True(reader.HasBuffer);
        Assert.Equal(HttpParseStatus.HeadComplete, reader.Parse());
        Assert.Equal("/a", Encoding.Latin1.GetString(parser.Head.Target));
        Assert.Equal(HttpParseStatus.MessageComplete, reader.Parse());
        Assert.True(reader.Buffered > 0); // the second request waits in the buffer
        Assert.Equal(HttpParseStatus.HeadComplete, reader.Parse());
        Assert.Equal("/b", Encoding.Latin1.GetString(parser.Head.Target));
        Assert.Equal(HttpParseStatus.MessageComplete, reader.Parse());
        Assert.Equal(0, reader.Buffered);
        Assert.Equal(HttpParseStatus.NeedMoreData, reader.Parse());
        reader.Release();
        Assert.False(reader.HasBuffer);
    }

    [Fact]
    public void Body_pieces_stay_in_the_buffer_until_taken()
    {
        using var parser = new HttpRequestParser();
        var reader = new HttpInputReader(parser, 1024);
        Receive(reader, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        Assert.Equal(HttpParseStatus.HeadComplete, reader.Parse());
        Assert.Equal(HttpParseStatus.Body, reader.Parse());
        Assert.Equal(5, reader.BodyAvailable);
        Assert.Throws<InvalidOperationException>(() => reader.GetReadMemory()); // the piece must be taken first
        var into = new byte[3];
        Assert.Equal(3, reader.TakeBody(into));
        Assert.Equal("hel", Encoding.ASCII.GetString(into));
        Assert.Equal(2, reader.TakeBody(into));
        Assert.Equal("lo", Encoding.ASCII.GetString(into, 0, 2));
        Assert.Equal(HttpParseStatus.NeedMoreData, reader.Parse());
        Receive(reader, "0\r\n\r\n");
        Assert.Equal(HttpParseStatus.MessageComplete, reader.Parse());
    }

    [Fact]
    public void The_end_of_input_gives_the_parsers_verdict()
    {
        using var parser = new HttpResponseParser();
        parser.SetRequestMethod("GET"u8);
        var reader = new HttpInputReader(parser, 1024);
        Receive(reader, "HTTP/1.1 200 OK\r\n\r\nclose-delimited");
        Assert.Equal(HttpParseStatus.HeadComplete, reader.Parse());
        Assert.Equal(HttpParseStatus.Body, reader.Parse());
        reader.DiscardBody();
        Assert.Equal(HttpParseStatus.NeedMoreData, reader.Parse());
        _ = reader.GetReadMemory();
        reader.Advance(0);
        Assert.True(reader.IsEndOfInput);
        Assert.Equal(HttpParseStatus.MessageComplete, reader.Parse()); // the close ends a close-delimited body

        var cut = new HttpInputReader(new HttpResponseParser(), 1024);
        Receive(cut, "HTTP/1.1 200 OK\r\nContent-Le");
        Assert.Equal(HttpParseStatus.NeedMoreData, cut.Parse());
        _ = cut.GetReadMemory();
        cut.Advance(0);
        Assert.Equal(HttpParseStatus.Error, cut.Parse());
        Assert.Equal(HttpParseErrorKind.IncompleteMessage, cut.Parser.Error.Kind);
    }

    [Fact]
    public void Release_and_abandon_forget_everything_received()
    {
        using var parser = new HttpRequestParser();
        var reader = new HttpInputReader(parser, 64);
        Receive(reader, "GET / HTTP/1.1\r\n");
        reader.Abandon();
        Assert.False(reader.HasBuffer);
        Assert.Equal(0, reader.Buffered);
        Receive(reader, "xyz");
        Assert.Throws<InvalidOperationException>(() => reader.Advance(1000)); // past what one read can bring
        reader.Release();
        Assert.Equal(0, reader.Buffered);
        Assert.False(reader.IsEndOfInput);
    }
}
