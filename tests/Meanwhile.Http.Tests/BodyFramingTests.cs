
namespace Meanwhile.Http.Tests;

public sealed class BodyFramingTests
{
    private const string Post = "POST /p HTTP/1.1\r\nHost: x\r\n";

    [Fact]
    public void Content_length_body_is_read_exactly()
    {
        ParsedMessage request = Expect.Accepted(Post + "Content-Length: 5\r\n\r\nhello");
        Assert.Equal("hello", Latin1.Text(request.Body));
        Assert.Equal(HttpBodyFraming.ContentLength, request.Framing);
    }

    [Theory]
    [InlineData("003", "abc")]
    [InlineData(" 3 ", "abc")]
    [InlineData("\t3\t ", "abc")]
    [InlineData("0", "")]
    public void Content_length_allows_leading_zeros_and_surrounding_whitespace(string value, string body)
    {
        Assert.Equal(body, Latin1.Text(Expect.Accepted(Post + $"Content-Length: {value}\r\n\r\n{body}").Body));
    }

    [Fact]
    public void Repeated_identical_content_length_is_accepted()
    {
        Assert.Equal("abc", Latin1.Text(Expect.Accepted(Post + "Content-Length: 3\r\ncontent-length: 3\r\n\r\nabc").Body));
    }

    [Theory]
    [InlineData("Content-Length: 1\r\nContent-Length: 2\r\n", "differing Content-Length values")]
    [InlineData("Content-Length: 3, 3\r\n", "Content-Length is not a single run of digits")]
    [InlineData("Content-Length: 4 2\r\n", "Content-Length is not a single run of digits")]
    [InlineData("Content-Length: -1\r\n", "Content-Length is not a single run of digits")]
    [InlineData("Content-Length: +1\r\n", "Content-Length is not a single run of digits")]
    [InlineData("Content-Length: 0x10\r\n", "Content-Length is not a single run of digits")]
    [InlineData("Content-Length:\r\n", "Content-Length is not a single run of digits")]
    [InlineData("Content-Length: 1000000000000000000000\r\n", "Content-Length overflows")]
    [InlineData("Content-Length: 9223372036854775808\r\n", "Content-Length overflows")]
    [InlineData("Content-Length: 99999999999999999999x\r\n", "Content-Length is not a single run of digits")]
    public void Invalid_content_length_gets_400(string field, string reason)
    {
        Assert.Equal(reason, Expect.Rejected(Post + field + "\r\n", 400, HttpParseErrorKind.InvalidContentLength).Reason);
    }

    [Fact]
    public void Content_length_above_the_body_limit_gets_413_at_the_head()
    {
        var limits = new HttpParserLimits { MaxBodyBytes = 10 };
        Expect.Rejected(Post + "Content-Length: 11\r\n\r\n", 413, HttpParseErrorKind.BodyTooLarge, limits);
        Expect.Accepted(Post + "Content-Length: 10\r\n\r\n0123456789", limits);
    }

    [Fact]
    public void Chunked_body_is_decoded()
    {
        ParsedMessage request = Expect.Accepted(Post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        Assert.Equal("hello world", Latin1.Text(request.Body));
        Assert.Equal(HttpBodyFraming.Chunked, request.Framing);
        Assert.Empty(request.Trailers);
    }

    [Theory]
    [InlineData("a", "0123456789")]
    [InlineData("A", "0123456789")]
    [InlineData("00000a", "0123456789")]
    public void Chunk_sizes_are_hex_in_either_case(string size, string data)
    {
        Assert.Equal(data, Latin1.Text(Expect.Accepted(Post + $"Transfer-Encoding: chunked\r\n\r\n{size}\r\n{data}\r\n000\r\n\r\n").Body));
    }

    [Fact]
    public void Chunk_extensions_are_parsed_and_ignored()
    {
        string body = "5;ilovew3=\"I \\\"love\\\"; \\\\extensions\\\\\";somuchlove=\"aretheseparametersfor\";blah;foo=bar\r\nhello\r\n"
            + "6 ; blahblah ; blah = x\r\n world\r\n0;last\r\n\r\n";
        Assert.Equal("hello world", Latin1.Text(Expect.Accepted(Post + "Transfer-Encoding: chunked\r\n\r\n" + body).Body));
    }

    [Theory]
    [InlineData("\r\nfoo\r\n0\r\n\r\n", "missing chunk size")]
    [InlineData("3 \r\nfoo\r\n0\r\n\r\n", "whitespace after chunk size")]
    [InlineData("2 erfrferferf\r\naa\r\n0\r\n\r\n", "invalid character after chunk size")]
    [InlineData("2;\r\naa\r\n0\r\n\r\n", "empty chunk extension name")]
    [InlineData("2;a=\r\naa\r\n0\r\n\r\n", "empty chunk extension value")]
    [InlineData("2;a=\"b\r\naa\r\n0\r\n\r\n", "malformed quoted string in chunk extension")]
    [InlineData("2;a=\"b\u0001\"\r\naa\r\n0\r\n\r\n", "malformed quoted string in chunk extension")]
    [InlineData("2;a \r\naa\r\n0\r\n\r\n", "whitespace after chunk size")]
    [InlineData("-2\r\naa\r\n0\r\n\r\n", "missing chunk size")]
    [InlineData("3\r\nfoo\r\n\r\n", "missing chunk size")]
    [InlineData("5\r\nABCDE0\r\n\r\n", "chunk data not followed by CRLF")]
    [InlineData("3\r\nfooX\r\n0\r\n\r\n", "chunk data not followed by CRLF")]
    [InlineData("3\r\nfoo\rX0\r\n\r\n", "chunk data not followed by CRLF")]
    [InlineData("3 \n  \r\nfoo\r\n\r\n", "chunk-size line not ended by CRLF")]
    [InlineData("5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n", "chunk-size line not ended by CRLF")]
    [InlineData("10000000000000000\r\n", "chunk size overflows")]
    public void Malformed_chunked_bodies_get_400(string body, string reason)
    {
        HttpParseError error = Expect.Rejected(Post + "Transfer-Encoding: chunked\r\n\r\n" + body, 400, HttpParseErrorKind.InvalidChunkedBody);
        Assert.Equal(reason, error.Reason);
    }

    [Fact]
    public void Largest_chunk_size_that_fits_is_not_an_overflow()
    {
        // 7fffffffffffffff fits in a long; the body limit, not arithmetic, refuses it.
        Expect.Rejected(Post + "Transfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\n", 413, HttpParseErrorKind.BodyTooLarge);
    }

    [Fact]
    public void Chunked_body_beyond_the_limit_gets_413()
    {
        var limits = new HttpParserLimits { MaxBodyBytes = 8 };
        Expect.Accepted(Post + "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n", limits);
        Expect.Rejected(Post + "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n5\r\nefghi\r\n0\r\n\r\n", 413, HttpParseErrorKind.BodyTooLarge, limits);
    }

    [Fact]
    public void Chunk_size_line_longer_than_the_limit_gets_400()
    {
        var limits = new HttpParserLimits { MaxChunkLineBytes = 16 };
        Expect.Rejected(Post + "Transfer-Encoding: chunked\r\n\r\n1;" + new string('a', 20) + "\r\nx\r\n0\r\n\r\n", 400, HttpParseErrorKind.InvalidChunkedBody, limits);
    }

    [Fact]
    public void Trailers_are_parsed_and_kept_apart_from_headers()
    {
        ParsedMessage request = Expect.Accepted(Post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nVary: *\r\nContent-Type:  text/plain \r\n\r\n");
        Assert.Equal([("Host", "x"), ("Transfer-Encoding", "chunked")], request.Headers);
        Assert.Equal([("Vary", "*"), ("Content-Type", "text/plain")], request.Trailers);
    }

    [Theory]
    [InlineData("Bad Name: x\r\n\r\n", HttpParseErrorKind.InvalidField)]
    [InlineData("X: a\r\n folded\r\n\r\n", HttpParseErrorKind.InvalidField)]
    [InlineData("X: \u0001\r\n\r\n", HttpParseErrorKind.InvalidField)]
    [InlineData("X: a\nY: b\r\n\r\n", HttpParseErrorKind.InvalidField)]
    public void Trailer_fields_follow_the_field_rules(string trailers, HttpParseErrorKind kind)
    {
        Expect.Rejected(Post + "Transfer-Encoding: chunked\r\n\r\n0\r\n" + trailers, 400, kind);
    }

    [Fact]
    public void Trailer_section_limits_apply()
    {
        var limits = new HttpParserLimits { MaxFieldCount = 2 };
        HttpParseError error = Expect.Rejected(Post + "Transfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, HttpParseErrorKind.TooManyFields, limits);
        Assert.Equal("too many trailer fields", error.Reason);
    }

    [Fact]
    public void Framing_fields_in_trailers_are_not_interpreted()
    {
        ParsedMessage request = Expect.Accepted(Post + "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nContent-Length: 5\r\nConnection: close\r\n\r\n");
        Assert.True(request.KeepAlive);
        Assert.Equal("a", Latin1.Text(request.Body));
    }

    [Theory]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400, HttpParseErrorKind.ConflictingFraming)]
    [InlineData("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400, HttpParseErrorKind.ConflictingFraming)]
    [InlineData("Transfer-Encoding: chunked, deflate\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding: deflate\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: chunked, chunked\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: identity\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: pigeons\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: chunkedchunked\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding:\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: chunked;a=b\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: chu@nked\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding)]
    [InlineData("Transfer-Encoding: gzip, chunked\r\n", 501, HttpParseErrorKind.UnsupportedTransferCoding)]
    [InlineData("Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n", 501, HttpParseErrorKind.UnsupportedTransferCoding)]
    public void Transfer_encoding_rules(string fields, int status, HttpParseErrorKind kind)
    {
        Expect.Rejected(Post + fields + "\r\n0\r\n\r\n", status, kind);
    }

    [Fact]
    public void Chunked_is_case_insensitive_and_empty_list_elements_are_ignored()
    {
        Assert.Equal("ab", Latin1.Text(Expect.Accepted(Post + "Transfer-Encoding: , CHUNKED ,\r\n\r\n2\r\nab\r\n0\r\n\r\n").Body));
    }

    [Fact]
    public void Transfer_encoding_in_http10_gets_400()
    {
        Expect.Rejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, HttpParseErrorKind.InvalidTransferEncoding);
    }

    [Fact]
    public void Body_pieces_are_slices_of_the_input_not_copies()
    {
        using var parser = new HttpRequestParser();
        byte[] raw = Latin1.Bytes(Post + "Content-Length: 5\r\n\r\nhello");
        Assert.Equal(HttpParseStatus.HeadComplete, parser.Parse(raw, out int consumed, out _));
        Assert.Equal(HttpParseStatus.Body, parser.Parse(raw.AsSpan(consumed), out int used, out ReadOnlySpan<byte> body));
        Assert.Equal(5, used);
        Assert.True(System.Runtime.CompilerServices.Unsafe.AreSame(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(body), ref raw[consumed]));
        Assert.Equal(5, parser.BodyBytesReceived);
        Assert.Equal(HttpParseStatus.MessageComplete, parser.Parse([], out _, out _));
    }

    [Fact]
    public void Request_without_framing_fields_has_no_body_and_the_next_bytes_are_the_next_request()
    {
        Transcript transcript = Splits.Requests("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(["/a", "/b"], transcript.Messages.Select(m => m.Target));
        Assert.All(transcript.Messages, m => Assert.Empty(m.Body));
    }
}
