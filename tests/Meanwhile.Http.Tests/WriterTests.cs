using System.Buffers;

namespace Meanwhile.Http.Tests;

public sealed class WriterTests
{
    [Fact]
    public void Request_head_serializes_as_expected()
    {
        var output = new ArrayBufferWriter<byte>();
        HttpHeadWriter.WriteRequestLine(output, "POST"u8, "/x?y=1"u8, HttpProtocolVersion.Http11);
        HttpHeadWriter.WriteField(output, "Host"u8, "example"u8);
        HttpHeadWriter.WriteField(output, "X-Latin", "caf\u00e9");
        HttpHeadWriter.WriteContentLength(output, 1234567890123);
        HttpHeadWriter.WriteChunkedTransferEncoding(output);
        HttpHeadWriter.WriteEndOfHead(output);
        Assert.Equal("POST /x?y=1 HTTP/1.1\r\nHost: example\r\nX-Latin: caf\u00e9\r\nContent-Length: 1234567890123\r\nTransfer-Encoding: chunked\r\n\r\n", Latin1.Text(output.WrittenSpan));
    }

    [Fact]
    public void Status_line_serializes_with_reason_phrase()
    {
        var output = new ArrayBufferWriter<byte>();
        HttpHeadWriter.WriteStatusLine(output, HttpProtocolVersion.Http11, 404, HttpReasonPhrases.Get(404));
        HttpHeadWriter.WriteStatusLine(output, HttpProtocolVersion.Http10, 299, HttpReasonPhrases.Get(299));
        Assert.Equal("HTTP/1.1 404 Not Found\r\nHTTP/1.0 299 \r\n", Latin1.Text(output.WrittenSpan));
    }

    [Fact]
    public void Writer_refuses_header_injection()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentException>(() => HttpHeadWriter.WriteField(output, "X"u8, "a\r\nInjected: yes"u8));
        Assert.Throws<ArgumentException>(() => HttpHeadWriter.WriteField(output, "X Y"u8, "a"u8));
        Assert.Throws<ArgumentException>(() => HttpHeadWriter.WriteField(output, "X"u8, " padded"u8));
        Assert.Throws<ArgumentException>(() => HttpHeadWriter.WriteField(output, "X", "\u0100"));
        Assert.Throws<ArgumentException>(() => HttpHeadWriter.WriteRequestLine(output, "GET"u8, "/a b"u8, HttpProtocolVersion.Http11));
        Assert.Throws<ArgumentException>(() => HttpHeadWriter.WriteRequestLine(output, "G T"u8, "/"u8, HttpProtocolVersion.Http11));
        Assert.Throws<ArgumentException>(() => HttpHeadWriter.WriteStatusLine(output, HttpProtocolVersion.Http11, 200, "O\nK"u8));
        Assert.Throws<ArgumentOutOfRangeException>(() => HttpHeadWriter.WriteStatusLine(output, HttpProtocolVersion.Http11, 99, "x"u8));
        Assert.Equal(0, output.WrittenCount);
    }

    [Theory]
    [InlineData(1, "1")]
    [InlineData(15, "f")]
    [InlineData(16, "10")]
    [InlineData(255, "ff")]
    [InlineData(4096, "1000")]
    [InlineData(long.MaxValue, "7fffffffffffffff")]
    public void Chunk_header_is_lowercase_hex(long size, string hex)
    {
        var output = new ArrayBufferWriter<byte>();
        HttpChunkedWriter.WriteChunkHeader(output, size);
        Assert.Equal(hex + "\r\n", Latin1.Text(output.WrittenSpan));
    }

    [Fact]
    public void Chunked_encoder_output_parses_back()
    {
        var output = new ArrayBufferWriter<byte>();
        HttpHeadWriter.WriteStatusLine(output, HttpProtocolVersion.Http11, 200, "OK"u8);
        HttpHeadWriter.WriteChunkedTransferEncoding(output);
        HttpHeadWriter.WriteEndOfHead(output);
        HttpChunkedWriter.WriteChunk(output, "hello "u8);
        HttpChunkedWriter.WriteChunk(output, []);
        HttpChunkedWriter.WriteChunkHeader(output, 5);
        output.Write("world"u8);
        HttpChunkedWriter.WriteChunkEnd(output);
        HttpChunkedWriter.WriteLastChunkBeforeTrailers(output);
        HttpHeadWriter.WriteField(output, "X-Done"u8, "yes"u8);
        HttpHeadWriter.WriteEndOfHead(output);

        ParsedMessage response = Splits.Responses(Latin1.Text(output.WrittenSpan)).Single;
        Assert.Equal("hello world", Latin1.Text(response.Body));
        Assert.Equal([("X-Done", "yes")], response.Trailers);
    }

    [Fact]
    public void Last_chunk_without_trailers()
    {
        var output = new ArrayBufferWriter<byte>();
        HttpChunkedWriter.WriteLastChunk(output);
        Assert.Equal("0\r\n\r\n", Latin1.Text(output.WrittenSpan));
    }
}
