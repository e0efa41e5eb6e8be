using System.Buffers;
using System.Text;
using System.Text.Json;

using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

public sealed class EchoJsonWriterTests
{
    [Fact]
    public void Writes_exactly_the_echo_shape()
    {
        string json = Echo("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\r\n", []);
        Assert.Equal("{\"method\":\"GET\",\"target\":\"/a?b=1\",\"version\":\"HTTP/1.1\",\"headers\":[[\"Host\",\"x\"],[\"X-A\",\"b\"]],\"body_base64\":\"\"}", json);
    }

    [Fact]
    public void Escapes_quotes_backslashes_controls_and_obs_text()
    {
        // The target is held to URI syntax by the parser; header values carry quotes, backslashes, HTAB and obs-text.
        string json = Echo("GET /t HTTP/1.1\r\nHost: x\r\nQ: with_\"q\"\\x\r\nT: a\tb\u00e9\u00ff\u0080\r\n\r\n", Encoding.Latin1.GetBytes("body"));
        Assert.Equal(
            "{\"method\":\"GET\",\"target\":\"/t\",\"version\":\"HTTP/1.1\",\"headers\":[[\"Host\",\"x\"],[\"Q\",\"with_\\\"q\\\"\\\\x\"],[\"T\",\"a\\u0009b\\u00e9\\u00ff\\u0080\"]],\"body_base64\":\"Ym9keQ==\"}",
            json);

        using JsonDocument document = JsonDocument.Parse(json);
        Assert.Equal("with_\"q\"\\x", document.RootElement.GetProperty("headers")[1][1].GetString());
        Assert.Equal("a\tb\u00e9\u00ff\u0080", document.RootElement.GetProperty("headers")[2][1].GetString());
        Assert.Equal("body", Encoding.Latin1.GetString(document.RootElement.GetProperty("body_base64").GetBytesFromBase64()));
    }

    [Fact]
    public void Every_byte_value_round_trips_through_a_json_reader()
    {
        byte[] all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var output = new ArrayBufferWriter<byte>();
        EchoJsonWriter.WriteString(output, all);
        Assert.True(output.WrittenSpan.IndexOfAnyInRange((byte)0x80, (byte)0xFF) < 0, "output is ASCII");
        string decoded = JsonSerializer.Deserialize<string>(output.WrittenSpan)!;
        Assert.Equal(Encoding.Latin1.GetString(all), decoded);
    }

    [Fact]
    public void Body_is_base64_of_the_dechunked_content_and_trailers_are_not_listed()
    {
        using var parser = new HttpRequestParser();
        ReadOnlySpan<byte> data = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n"u8;
        var body = new List<byte>();
        HttpParseStatus status;
        while ((status = parser.Parse(data, out int consumed, out ReadOnlySpan<byte> piece)) != HttpParseStatus.MessageComplete)
        {
            Assert.NotEqual(HttpParseStatus.Error, status);
            body.AddRange(piece);
            data = data[consumed..];
        }

        var output = new ArrayBufferWriter<byte>();
        EchoJsonWriter.Write(parser.Head, [.. body], output);
        using JsonDocument document = JsonDocument.Parse(output.WrittenMemory);
        Assert.Equal(2, document.RootElement.GetProperty("headers").GetArrayLength());
        Assert.Equal("YWJj", document.RootElement.GetProperty("body_base64").GetString());
    }

    private static string Echo(string head, byte[] body)
    {
        using var parser = new HttpRequestParser();
        Assert.Equal(HttpParseStatus.HeadComplete, parser.Parse(Encoding.Latin1.GetBytes(head), out _, out _));
        var output = new ArrayBufferWriter<byte>();
        EchoJsonWriter.Write(parser.Head, body, output);
        return Encoding.ASCII.GetString(output.WrittenSpan);
    }
}
