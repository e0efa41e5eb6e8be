using System.Text;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>
/// A client that breaks the protocol gets the RFC's close code and then the TCP close; the message it sent before the
/// bad frame was already accepted, and its echo arrives first.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private WsServer _server = null!;

    public async Task InitializeAsync() => _server = await WsServer.EchoAsync(new LoopWebSocketOptions { MaxMessageBytes = 1000, CloseTimeout = TimeSpan.FromSeconds(5) });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, byte[], int> Cases() => new()
    {
        { "an unmasked client frame", RawClient.Frame(2, [1, 2, 3], mask: false), 1002 },
        { "RSV1 with no extension", RawClient.Frame(2, [1], rsv: 4), 1002 },
        { "RSV2", RawClient.Frame(2, [1], rsv: 2), 1002 },
        { "RSV3", RawClient.Frame(2, [1], rsv: 1), 1002 },
        { "reserved data opcode 3", RawClient.Frame(3, [1]), 1002 },
        { "reserved control opcode 11", RawClient.Frame(11, []), 1002 },
        { "a ping of 126 bytes", RawClient.Frame(9, new byte[126]), 1002 },
        { "a fragmented ping", RawClient.Frame(9, [1], fin: false), 1002 },
        { "a continuation with nothing to continue", RawClient.Frame(0, [1]), 1002 },
        { "a new message inside a fragmented one", [.. RawClient.Frame(1, "a"u8.ToArray(), fin: false), .. RawClient.Frame(1, "b"u8.ToArray())], 1002 },
        { "close code 1005 on the wire", RawClient.Close(1005), 1002 },
        { "close code 999", RawClient.Close(999), 1002 },
        { "close code 1004", RawClient.Close(1004), 1002 },
        { "close code 2999", RawClient.Close(2999), 1002 },
        { "close code 5000", RawClient.Close(5000), 1002 },
        { "a one-byte close payload", RawClient.Frame(8, [3]), 1002 },
        { "a close reason in invalid UTF-8", RawClient.Frame(8, [3, 232, 0xC0, 0x80]), 1007 },
        { "a 64-bit length with its top bit set", [0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], 1002 },
        { "invalid UTF-8 in a text message", RawClient.Frame(1, [0x61, 0xED, 0xA0, 0x80]), 1007 },
        { "invalid UTF-8 split across fragments", [.. RawClient.Frame(1, [0x61, 0xF0, 0x9F], fin: false), .. RawClient.Frame(0, [0x28, 0x80])], 1007 },
        { "a text message ending inside a sequence", [.. RawClient.Frame(1, [0x61, 0xE2, 0x82], fin: false), .. RawClient.Frame(0, [], fin: true)], 1007 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_broken_frame_gets_its_close_code_after_the_messages_accepted_before_it(string what, byte[] bad, int code)
    {
        using var client = new RawClient(_server.Port);
        Assert.Equal(101, client.Handshake().Status);
        client.Send(RawClient.Frame(1, "accepted first"u8.ToArray()));
        client.Send(bad);
        var (opcode, fin, payload) = client.ReadFrame();
        Assert.True(opcode == 1 && fin, $"{what}: the earlier message's echo comes first");
        Assert.Equal("accepted first", Encoding.UTF8.GetString(payload));
        Assert.Equal(code, client.ReadClose());
        Assert.True(client.ServerClosed(), $"{what}: the server closes the TCP connection");
    }

    [Fact]
    public void A_message_declared_over_the_limit_is_refused_with_1009_before_its_payload_is_sent()
    {
        using var client = new RawClient(_server.Port);
        client.Handshake();
        // Only the header of a 1001-byte frame: the server refuses on the declared length, without waiting for the bytes.
        var frame = RawClient.Frame(2, new byte[1001]);
        client.Send(frame[..8]);
        Assert.Equal(1009, client.ReadClose());
        Assert.True(client.ServerClosed());
    }

    [Fact]
    public void Fragments_whose_sum_passes_the_limit_are_refused_at_the_fragment_that_passes_it()
    {
        using var client = new RawClient(_server.Port);
        client.Handshake();
        client.Send(RawClient.Frame(2, new byte[600], fin: false));
        client.Send(RawClient.Frame(0, new byte[401], fin: true)[..8]);
        Assert.Equal(1009, client.ReadClose());
    }

    [Fact]
    public void Pings_between_fragments_are_answered_and_the_message_arrives_whole()
    {
        using var client = new RawClient(_server.Port);
        client.Handshake();
        client.Send([.. RawClient.Frame(1, "frag"u8.ToArray(), fin: false), .. RawClient.Frame(9, "p1"u8.ToArray()), .. RawClient.Frame(0, "men"u8.ToArray(), fin: false),
            .. RawClient.Frame(10, "unsolicited"u8.ToArray()), .. RawClient.Frame(9, "p2"u8.ToArray()), .. RawClient.Frame(0, "ted"u8.ToArray())]);
        var first = client.ReadFrame();
        Assert.Equal((10, "p1"), (first.Opcode, Encoding.UTF8.GetString(first.Payload)));
        var second = client.ReadFrame();
        Assert.Equal((10, "p2"), (second.Opcode, Encoding.UTF8.GetString(second.Payload)));
        var message = client.ReadFrame();
        Assert.Equal((1, "fragmented"), (message.Opcode, Encoding.UTF8.GetString(message.Payload)));
        client.Send(RawClient.Close(1000, "bye"));
        Assert.Equal(1000, client.ReadClose());
        Assert.True(client.ServerClosed());
    }

    [Fact]
    public void A_frame_dripped_one_byte_at_a_time_is_read_whole()
    {
        using var client = new RawClient(_server.Port);
        client.Handshake();
        foreach (byte b in RawClient.Frame(1, Encoding.UTF8.GetBytes("slow é drip")))
        {
            client.Send([b]);
        }
        Assert.Equal("slow é drip", Encoding.UTF8.GetString(client.ReadFrame().Payload));
    }

    [Theory]
    [InlineData("Upgrade", null, 400)]
    [InlineData("Upgrade", "h2c", 400)]
    [InlineData("Connection", null, 400)]
    [InlineData("Connection", "keep-alive", 400)]
    [InlineData("Sec-WebSocket-Key", null, 400)]
    [InlineData("Sec-WebSocket-Key", "short", 400)]
    [InlineData("Sec-WebSocket-Version", null, 400)]
    [InlineData("Sec-WebSocket-Version", "8", 426)]
    public void A_handshake_missing_or_breaking_a_required_header_is_refused(string field, string? value, int status)
    {
        using var client = new RawClient(_server.Port);
        var (code, head, body) = client.Handshake("/ws", (field, value));
        Assert.Equal(status, code);
        if (status == 426) Assert.Contains("Sec-WebSocket-Version: 13", head);
        Assert.False(string.IsNullOrWhiteSpace(body));
    }

    [Fact]
    public void A_handshake_dripped_one_byte_at_a_time_is_accepted()
    {
        using var client = new RawClient(_server.Port);
        var request = $"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {RawClient.ValidKey}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        foreach (byte b in Encoding.ASCII.GetBytes(request)) client.Send([b]);
        var (status, head, _) = client.ReadHead();
        Assert.Equal(101, status);
        Assert.Contains("Sec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=", head);
    }
}
