using System.IO.Compression;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>
/// permessage-deflate (RFC 7692) on the wire, with a raw client: the negotiation, RSV1 on a compressed message's first
/// frame only, the tail removed and put back, context takeover, and the RFC's close codes for what breaks it.
/// </summary>
public sealed class CompressionTests : IAsyncLifetime
{
    private const string Offer = "permessage-deflate; client_max_window_bits";
    private WsServer _server = null!;

    public async Task InitializeAsync() => _server = await WsServer.EchoAsync(new LoopWebSocketOptions { MaxMessageBytes = 100_000, CloseTimeout = TimeSpan.FromSeconds(5) });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>A message compressed as a peer would send it: raw DEFLATE, sync flush, the tail removed.</summary>
    private static byte[] Deflate(byte[] data)
    {
        using var deflater = new MessageDeflater(new DeflateSettings(true, true, PerMessageDeflateOptions.Default));
        var compressed = deflater.Compress(data, endOfMessage: true).ToArray();
        deflater.ReleaseOutput();
        return compressed;
    }

    internal static byte[] Inflate(byte[] payload)
    {
        using var inflate = new DeflateStream(new MemoryStream([.. payload, 0x00, 0x00, 0xFF, 0xFF]), CompressionMode.Decompress);
        var output = new MemoryStream();
        inflate.CopyTo(output);
        return output.ToArray();
    }

    public static TheoryData<string, string?> Negotiations() => new()
    {
        { "permessage-deflate", "permessage-deflate; server_no_context_takeover" },
        { Offer, "permessage-deflate; server_no_context_takeover" },
        { "permessage-deflate; client_max_window_bits=10", "permessage-deflate; server_no_context_takeover" },
        { "permessage-deflate; server_no_context_takeover; client_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover" },
        { "permessage-deflate; server_max_window_bits=15", "permessage-deflate; server_no_context_takeover; server_max_window_bits=15" },
        { "permessage-deflate; server_max_window_bits=\"15\"", "permessage-deflate; server_no_context_takeover; server_max_window_bits=15" },
        // A smaller server window cannot be honoured (.NET's zlib compresses with 15 bits): that offer is declined, the next one taken.
        { "permessage-deflate; server_max_window_bits=10", null },
        { "permessage-deflate; server_max_window_bits=10, permessage-deflate", "permessage-deflate; server_no_context_takeover" },
        { "x-webkit-deflate-frame, permessage-deflate", "permessage-deflate; server_no_context_takeover" },
        { "permessage-deflate; unknown_parameter", null },
        { "permessage-deflate; server_no_context_takeover; server_no_context_takeover", null },
        { "permessage-deflate; server_max_window_bits", null },
        { "permessage-deflate; server_max_window_bits=08", null },
        { "permessage-deflate; client_max_window_bits=16", null },
        { "permessage-deflate; server_no_context_takeover=1", null },
        { "permessage-deflate; ;", null },
        { "x-webkit-deflate-frame", null },
    };

    [Theory]
    [MemberData(nameof(Negotiations))]
    public void The_server_accepts_the_first_offer_it_can_honour_and_answers_only_what_it_may(string offer, string? answer)
    {
        using var client = new RawClient(_server.Port);
        var (status, head, _) = client.Handshake("/ws", ("Sec-WebSocket-Extensions", offer));
        Assert.Equal(101, status);
        var line = head.Split("\r\n").SingleOrDefault(l => l.StartsWith("Sec-WebSocket-Extensions:", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(answer, line?[25..].Trim());
    }

    [Fact]
    public void A_compressed_message_is_inflated_and_the_echo_comes_back_compressed_with_RSV1_on_its_first_frame_only()
    {
        using var client = new RawClient(_server.Port);
        Assert.Equal(101, client.Handshake("/ws", ("Sec-WebSocket-Extensions", Offer)).Status);
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("compress me, é ", 400)));
        var compressed = Deflate(text);
        Assert.True(compressed.Length < text.Length / 10);
        // Sent in two fragments, RSV1 on the first only, a ping between them.
        int half = compressed.Length / 2;
        client.Send([.. RawClient.Frame(1, compressed[..half], fin: false, rsv: 4), .. RawClient.Frame(9, "p"u8.ToArray()), .. RawClient.Frame(0, compressed[half..])]);
        var (opcode, _, pong) = client.ReadFrame();
        Assert.Equal((10, "p"), (opcode, Encoding.ASCII.GetString(pong)));
        var (echoOpcode, fin, payload) = client.ReadFrame();
        Assert.True(echoOpcode == 1 && fin && client.LastRsv1, "the echo is one compressed text frame");
        Assert.True(payload.Length < text.Length / 10, $"{payload.Length} bytes on the wire");
        Assert.Equal(text, Inflate(payload));
        // A message under the threshold goes uncompressed; an uncompressed message from the client is fine too.
        client.Send(RawClient.Frame(2, [1, 2, 3]));
        Assert.Equal([1, 2, 3], client.ReadFrame().Payload);
        Assert.False(client.LastRsv1);
        // An empty compressed message: an empty payload with RSV1, the tail alone inflates to nothing.
        client.Send(RawClient.Frame(2, [], rsv: 4));
        Assert.Empty(client.ReadFrame().Payload);
    }

    [Fact]
    public async Task With_context_takeover_a_repeated_message_costs_a_few_bytes_and_without_it_the_full_price()
    {
        async Task<List<int>> SizesAsync(bool takeover)
        {
            var options = new LoopWebSocketOptions { Compression = new PerMessageDeflateOptions { ServerContextTakeover = takeover } };
            await using var server = await WsServer.EchoAsync(options);
            using var client = new RawClient(server.Port);
            var (_, head, _) = client.Handshake("/ws", ("Sec-WebSocket-Extensions", "permessage-deflate"));
            Assert.Equal(!takeover, head.Contains("server_no_context_takeover", StringComparison.Ordinal));
            var message = Encoding.ASCII.GetBytes(string.Join(",", Enumerable.Range(0, 300).Select(i => i * 7919 % 10007)));
            var sizes = new List<int>();
            for (int i = 0; i < 3; i++)
            {
                client.Send(RawClient.Frame(1, message));
                var (_, _, payload) = client.ReadFrame();
                Assert.True(client.LastRsv1);
                sizes.Add(payload.Length);
            }
            return sizes;
        }
        var kept = await SizesAsync(takeover: true);
        var reset = await SizesAsync(takeover: false);
        Assert.True(kept[1] < kept[0] / 10 && kept[2] < kept[0] / 10, $"with takeover: {string.Join(", ", kept)}");
        Assert.True(reset[1] == reset[0] && reset[2] == reset[0], $"without: {string.Join(", ", reset)}");
    }

    public static TheoryData<string, byte[], int> BadCases() => new()
    {
        { "RSV1 on a ping", RawClient.Frame(9, [1], rsv: 4), 1002 },
        { "RSV1 on a close", [.. RawClient.Frame(8, [3, 232], rsv: 4)], 1002 },
        { "RSV1 on a continuation", [.. RawClient.Frame(2, Deflate([1, 2, 3]), fin: false, rsv: 4), .. RawClient.Frame(0, [], rsv: 4)], 1002 },
        { "RSV2 with the extension", RawClient.Frame(2, [1], rsv: 2), 1002 },
        { "a corrupt DEFLATE stream", RawClient.Frame(2, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF], rsv: 4), 1007 },
        { "invalid UTF-8 once inflated", RawClient.Frame(1, Deflate([0x61, 0xED, 0xA0, 0x80]), rsv: 4), 1007 },
        // 10 MB of zeros deflate to about 10 KB: refused with 1009 as it inflates past the 100,000-byte limit, never held whole.
        { "a decompression bomb", RawClient.Frame(2, Deflate(new byte[10_000_000]), rsv: 4), 1009 },
    };

    [Theory]
    [MemberData(nameof(BadCases))]
    public void A_broken_compressed_frame_gets_its_close_code_after_the_messages_accepted_before_it(string what, byte[] bad, int code)
    {
        using var client = new RawClient(_server.Port);
        Assert.Equal(101, client.Handshake("/ws", ("Sec-WebSocket-Extensions", Offer)).Status);
        client.Send(RawClient.Frame(1, Deflate("accepted first, compressed"u8.ToArray()), rsv: 4));
        client.Send(bad);
        var (opcode, fin, payload) = client.ReadFrame();
        Assert.True(opcode == 1 && fin, $"{what}: the earlier message's echo comes first");
        Assert.Equal("accepted first, compressed", Encoding.UTF8.GetString(client.LastRsv1 ? Inflate(payload) : payload));
        Assert.Equal(code, client.ReadClose());
        Assert.True(client.ServerClosed(), $"{what}: the server closes the TCP connection");
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public async Task Our_client_and_server_carry_large_messages_sent_in_pieces_with_each_context_option(bool serverTakeover, bool clientTakeover)
    {
        var deflate = new PerMessageDeflateOptions { ServerContextTakeover = serverTakeover, ClientContextTakeover = clientTakeover };
        var options = new LoopWebSocketOptions { Compression = deflate, MaxMessageBytes = 4 << 20 };
        await using var echo = await WsServer.EchoAsync(options);
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync(echo.Uri(), options);
            Assert.StartsWith("permessage-deflate", socket.Extensions);
            Assert.Equal(!serverTakeover, socket.Extensions!.Contains("server_no_context_takeover", StringComparison.Ordinal));
            Assert.Equal(!clientTakeover, socket.Extensions.Contains("client_no_context_takeover", StringComparison.Ordinal));
            var random = new Random(42);
            for (int i = 0; i < 4; i++)
            {
                var data = new byte[random.Next(1, 3_000_000)];
                for (int j = 0; j < data.Length; j += 1 + random.Next(64)) data[j] = (byte)random.Next(8); // compressible, not trivially
                // Streamed: three pieces of one message, each its own frame through the compressor.
                int third = data.Length / 3;
                await socket.SendAsync(data.AsMemory(0, third), WebSocketMessageKind.Binary, endOfMessage: false);
                await socket.SendAsync(data.AsMemory(third, third), WebSocketMessageKind.Binary, endOfMessage: false);
                await socket.SendAsync(data.AsMemory(2 * third), WebSocketMessageKind.Binary);
                var back = await socket.ReceiveMessageAsync();
                Assert.True(data.AsSpan().SequenceEqual(back.Data.Span), $"message {i} of {data.Length} bytes");
                await socket.SendTextAsync("small é");
                Assert.Equal("small é", (await socket.ReceiveMessageAsync()).Text);
            }
            await socket.CloseAsync();
        });
    }

    [Fact]
    public async Task A_client_with_compression_off_offers_nothing_and_one_with_it_on_refuses_an_answer_it_did_not_offer()
    {
        await using var server = await WsServer.StartAsync((request, response) =>
        {
            if (request.Query.SequenceEqual("bad"u8)) response.AddHeader("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits=10");
            bool offered = request.Headers.TryGetValue("Sec-WebSocket-Extensions"u8, out _);
            response.AcceptWebSocket(request, socket => socket.SendTextAsync(offered ? "offered" : "not offered"), new LoopWebSocketOptions { Compression = null });
            return ValueTask.CompletedTask;
        });
        Loops.Run(async () =>
        {
            await using (var plain = await LoopWebSocket.ConnectAsync(server.Uri("/ws"), new LoopWebSocketOptions { Compression = null }))
            {
                Assert.Null(plain.Extensions);
                Assert.Equal("not offered", (await plain.ReceiveMessageAsync()).Text);
            }
            var error = await Assert.ThrowsAsync<LoopWebSocketException>(async () => await LoopWebSocket.ConnectAsync(server.Uri("/ws?bad")));
            Assert.Contains("client_max_window_bits=10", error.Message);
        });
    }
}
