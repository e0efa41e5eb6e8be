
namespace Meanwhile.Http.Tests;

public sealed class FieldLineTests
{
    [Fact]
    public void Fields_keep_arrival_order_names_as_sent_and_trimmed_values()
    {
        ParsedMessage request = Expect.Accepted("GET / HTTP/1.1\r\nhOsT: x\r\nX-A:\t b c \t\r\nX-A: second\r\nEmpty:\r\nX-Ws:   \r\n\r\n");
        Assert.Equal([("hOsT", "x"), ("X-A", "b c"), ("X-A", "second"), ("Empty", ""), ("X-Ws", "")], request.Headers);
    }

    [Fact]
    public void Obs_text_is_allowed_in_values()
    {
        ParsedMessage request = Expect.Accepted("GET / HTTP/1.1\r\nHost: x\r\nTest: D\u00c3\u00bcsseldorf \u00ff\r\n\r\n");
        Assert.Equal("D\u00c3\u00bcsseldorf \u00ff", request.Headers[1].Value);
    }

    [Fact]
    public void Whitespace_before_the_colon_gets_400()
    {
        HttpParseError error = Expect.Rejected("GET / HTTP/1.1\r\nHost: x\r\nConnection : close\r\n\r\n", 400, HttpParseErrorKind.InvalidField);
        Assert.Equal("whitespace before colon in header field", error.Reason);
        Expect.Rejected("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400, HttpParseErrorKind.InvalidField);
    }

    [Theory]
    [InlineData("Fo@: x", "invalid character in field name")]
    [InlineData("Foo\u0001test: x", "invalid character in field name")]
    [InlineData("F\u00e9: x", "invalid character in field name")]
    [InlineData(": x", "empty field name")]
    [InlineData("no colon here", "field line without a colon")]
    [InlineData("X: a\u0000b", "control character in field value")]
    [InlineData("X: a\u000cb", "control character in field value")]
    [InlineData("X: \u000c", "control character in field value")]
    [InlineData("X: a\u007fb", "control character in field value")]
    [InlineData("X: a\u001bb", "control character in field value")]
    public void Malformed_field_lines_get_400(string fieldLine, string reason)
    {
        HttpParseError error = Expect.Rejected($"GET / HTTP/1.1\r\nHost: x\r\n{fieldLine}\r\n\r\n", 400, HttpParseErrorKind.InvalidField);
        Assert.Equal(reason, error.Reason);
    }

    [Fact]
    public void Obs_fold_gets_400()
    {
        HttpParseError error = Expect.Rejected("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400, HttpParseErrorKind.InvalidField);
        Assert.Equal("obs-fold (line folding) in a field line", error.Reason);
        Expect.Rejected("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n", 400, HttpParseErrorKind.InvalidField);
    }

    [Fact]
    public void Whitespace_before_the_first_field_gets_400_without_waiting_for_the_line_end()
    {
        HttpParseError error = Expect.Rejected("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400, HttpParseErrorKind.InvalidField);
        Assert.Equal("whitespace before the first header field", error.Reason);

        using var parser = new HttpRequestParser();
        Assert.Equal(HttpParseStatus.Error, parser.Parse("GET / HTTP/1.1\r\n "u8, out _, out _));
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", "bare LF (line not ended by CRLF)")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nX: y\rZ: w\r\n\r\n", "bare CR (CR not followed by LF)")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nX:\rTransfer-Encoding: chunked\r\n\r\n", "bare CR (CR not followed by LF)")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\rZGET /evil HTTP/1.1\r\n\r\n", "bare CR (CR not followed by LF)")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\n", "bare LF (line not ended by CRLF)")]
    [InlineData("GET / HTTP/1.1\r\nContent\rLength: 3\r\n\r\nabc", "bare CR (CR not followed by LF)")]
    public void Bare_cr_or_lf_in_the_header_section_gets_400(string raw, string reason)
    {
        Assert.Equal(reason, Expect.Rejected(raw, 400, HttpParseErrorKind.InvalidField).Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(31)]
    public void Every_byte_value_is_judged_alike_wherever_it_sits_in_a_long_value(int at)
    {
        // Field values are searched sixteen bytes at a time: each byte at the start, inside and just across the blocks.
        for (int b = 0; b < 256; b++)
        {
            string value = new string('v', at) + (char)b + new string('w', 40 - at);
            string raw = $"GET / HTTP/1.1\r\nHost: x\r\nX-Long: {value}\r\nX-Next: n\r\n\r\n";
            bool fieldValueByte = b == '\t' || (b >= 0x20 && b != 0x7F);
            if (fieldValueByte) Assert.Equal(value.Trim(' ', '\t'), Expect.Accepted(raw).Headers[1].Value);
            else Expect.Rejected(raw, 400, HttpParseErrorKind.InvalidField);
        }
    }

    [Fact]
    public void Host_is_required_in_http11()
    {
        HttpParseError error = Expect.Rejected("GET / HTTP/1.1\r\nX: y\r\n\r\n", 400, HttpParseErrorKind.InvalidHost);
        Assert.Equal("missing Host header field", error.Reason);
    }

    [Fact]
    public void Host_must_appear_once()
    {
        HttpParseError error = Expect.Rejected("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, HttpParseErrorKind.InvalidHost);
        Assert.Equal("more than one Host header field", error.Reason);
        Expect.Rejected("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, HttpParseErrorKind.InvalidHost);
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("a:b")]
    [InlineData("[::1")]
    [InlineData("x]")]
    [InlineData(":80")]
    [InlineData("a@b")]
    [InlineData("a:8o")]
    [InlineData("a:80:80")]
    [InlineData("1.2.3.4:80x")]
    public void Invalid_host_values_get_400(string host)
    {
        Expect.Rejected($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n", 400, HttpParseErrorKind.InvalidHost);
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("example.com:8080")]
    [InlineData("[::1]:443")]
    [InlineData("[::1]")]
    [InlineData("0.0.0.0=5000")]
    [InlineData("home_0.netscape.com")]
    [InlineData("")]
    [InlineData("127.0.0.1:27201")]
    [InlineData("A-b.C:")]
    [InlineData("a%41b.com:80")]
    public void Valid_host_values_are_accepted(string host)
    {
        Assert.Equal(host, Expect.Accepted($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").Headers[0].Value);
    }

    [Fact]
    public void Header_section_larger_than_the_limit_gets_431()
    {
        var limits = new HttpParserLimits { MaxHeaderSectionBytes = 64 };
        Expect.Rejected("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('v', 60) + "\r\n\r\n", 431, HttpParseErrorKind.HeaderSectionTooLarge, limits);

        // Exactly at the limit: 9 + 53 + 2 = 64 bytes of field lines and final CRLF.
        Expect.Accepted("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('v', 44) + "\r\n\r\n", limits);
    }

    [Fact]
    public void A_header_section_that_never_ends_is_refused_once_past_the_limit()
    {
        var limits = new HttpParserLimits { MaxHeaderSectionBytes = 64 };
        using var parser = new HttpRequestParser(limits);
        Assert.Equal(HttpParseStatus.NeedMoreData, parser.Parse("GET / HTTP/1.1\r\nHost: x\r\n"u8, out _, out _));
        HttpParseStatus status = HttpParseStatus.NeedMoreData;
        for (int i = 0; i < 10 && status == HttpParseStatus.NeedMoreData; i++)
        {
            status = parser.Parse("X-Endless: aaaa"u8, out _, out _);
        }

        Assert.Equal(HttpParseStatus.Error, status);
        Assert.Equal(431, parser.Error.StatusCode);
    }

    [Fact]
    public void More_fields_than_the_limit_gets_431()
    {
        var limits = new HttpParserLimits { MaxFieldCount = 3 };
        Expect.Accepted("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", limits);
        HttpParseError error = Expect.Rejected("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, HttpParseErrorKind.TooManyFields, limits);
        Assert.Equal("too many header fields", error.Reason);
    }

    [Fact]
    public void Field_lookup_is_case_insensitive_and_returns_the_first()
    {
        using var parser = new HttpRequestParser();
        Assert.Equal(HttpParseStatus.HeadComplete, parser.Parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n"u8, out _, out _));
        Assert.True(parser.Head.Fields.TryGetValue("X-a"u8, out ReadOnlySpan<byte> value));
        Assert.Equal("1", Latin1.Text(value));
        Assert.False(parser.Head.Fields.TryGetValue("X-B"u8, out _));
        Assert.True(parser.Head.Fields[1].NameEquals("x-A"u8));
        Assert.Equal("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n", Latin1.Text(parser.Head.RawBytes));
    }

    [Theory]
    [InlineData("Content-Length", "content-length", true)]
    [InlineData("CONTENT-LENGTH", "Content-Length", true)]
    [InlineData("Content-Length", "Content-Lengtx", false)]
    [InlineData("Content\rLength", "Content-Length", false)] // equal with bit 0x20 set, yet no case pair
    [InlineData("Content-Length", "Content\rLength", false)]
    [InlineData("Keep-Alive", "Connection", false)]
    [InlineData("Date", "ETag", false)]
    [InlineData("DATE", "date", true)]
    [InlineData("Dat@", "Dat`", false)] // 0x40 and 0x60 differ by 0x20 but are not letters
    [InlineData("TE", "te", true)]
    [InlineData("TE", "tf", false)]
    [InlineData("", "", true)]
    [InlineData("Host", "Hos", false)]
    [InlineData("X-Forwarded-Proto", "x-forwarded-proto", true)]
    [InlineData("A-Name-Longer-Than-Thirty-Two-Bytes", "a-name-longer-than-thirty-two-bytes", true)]
    [InlineData("A-Name-Longer-Than-Thirty-Two-Bytes", "a-name-longer-than-thirty-two-bytez", false)]
    [InlineData("Seventeen-Bytes-X", "seventeen-bytes-y", false)]
    [InlineData("Seventeen-Bytes-X", "SEVENTEEN-BYTES-x", true)]
    public void Field_names_compare_ignoring_ascii_case_as_Ascii_does(string left, string right, bool equal)
    {
        byte[] a = System.Text.Encoding.Latin1.GetBytes(left), b = System.Text.Encoding.Latin1.GetBytes(right);
        Assert.Equal(equal, HttpField.EqualsIgnoreCase(a, b));
        Assert.Equal(System.Text.Ascii.EqualsIgnoreCase(a, b), HttpField.EqualsIgnoreCase(a, b));
    }

    [Fact]
    public void Field_names_compare_as_Ascii_does_for_every_byte_pair_at_every_position()
    {
        byte[] literal = "content-length"u8.ToArray();
        for (int position = 0; position < literal.Length; position++)
        {
            for (int value = 0; value < 128; value++)
            {
                byte[] name = (byte[])literal.Clone();
                name[position] = (byte)value;
                Assert.Equal(System.Text.Ascii.EqualsIgnoreCase(name, literal), HttpField.EqualsIgnoreCase(name, literal));
                Assert.Equal(System.Text.Ascii.EqualsIgnoreCase(literal, name), HttpField.EqualsIgnoreCase(literal, name));
            }
        }
    }
}
