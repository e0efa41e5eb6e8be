using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Meanwhile.Http.Tests;

/// <summary>What a proxy relies on to forward a parsed head: its fields copied as read, and the Connection options it must drop.</summary>
public sealed class ForwardedFieldTests
{
    private static HttpRequestHead Parsed(HttpRequestParser parser, string head)
    {
        var status = parser.Parse(Encoding.Latin1.GetBytes(head), out _, out _);
        Assert.Equal(HttpParseStatus.HeadComplete, status);
        return parser.Head;
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("Connection: close\r\n", false)]
    [InlineData("Connection: Keep-Alive , upgrade,,\r\n", false)]
    [InlineData("Connection: keep-alive, X-Drop\r\n", true)]
    [InlineData("Connection: close\r\nConnection: x-private\r\n", true)]
    public void Connection_options_beyond_close_keep_alive_and_upgrade_are_reported(string fields, bool others)
    {
        using var parser = new HttpRequestParser();
        Assert.Equal(others, Parsed(parser, $"GET / HTTP/1.1\r\nHost: x\r\n{fields}\r\n").ConnectionNamesOtherOptions);
    }

    [Fact]
    public void A_parsed_field_is_written_as_the_checked_name_and_value_overload_writes_it()
    {
        using var parser = new HttpRequestParser();
        var head = Parsed(parser, "GET / HTTP/1.1\r\nHost: x\r\nX-Padded: \t a  b \t\r\nx-latin: caf\u00e9\r\nEmpty:\r\n\r\n");
        var copied = new ArrayBufferWriter<byte>();
        var checkedCopy = new ArrayBufferWriter<byte>();
        foreach (var field in head.Fields)
        {
            HttpHeadWriter.WriteField(copied, field);
            HttpHeadWriter.WriteField(checkedCopy, field.Name, field.Value);
        }
        Assert.Equal("Host: x\r\nX-Padded: a  b\r\nx-latin: caf\u00e9\r\nEmpty: \r\n", Encoding.Latin1.GetString(copied.WrittenSpan));
        Assert.Equal(checkedCopy.WrittenSpan.ToArray(), copied.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_default_field_is_refused()
    {
        Assert.Throws<ArgumentException>(() => HttpHeadWriter.WriteField(new ArrayBufferWriter<byte>(), default(HttpField)));
    }

    [Fact]
    public void Trim_keeps_a_small_array_and_gives_back_a_grown_one()
    {
        var buffer = new PooledByteBuffer(512);
        buffer.Write(new byte[100]);
        var small = Array(buffer);
        buffer.Trim(512);
        Assert.Equal(0, buffer.Length);
        buffer.Write(new byte[10]);
        Assert.Same(small, Array(buffer));

        buffer.Write(new byte[4000]); // grows past 512
        var grown = Array(buffer);
        buffer.Trim(512);
        Assert.Equal(0, buffer.Length);
        buffer.Write(new byte[10]);
        Assert.NotSame(grown, Array(buffer));
        buffer.Release();
    }

    private static byte[] Array(PooledByteBuffer buffer)
    {
        Assert.True(MemoryMarshal.TryGetArray(buffer.WrittenMemory, out var segment));
        return segment.Array!;
    }
}
