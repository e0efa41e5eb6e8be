using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>
/// A message encoded once for many connections (a broadcast): the same frame on every server connection, compressed
/// once where the connection's compressor starts afresh, through the connection's own compressor where it keeps its
/// context, and masked per frame from a client.
/// </summary>
public sealed class PreparedMessageTests
{
    // Compressible and over the compression threshold (1 KiB by default).
    private static readonly byte[] Big = Encoding.ASCII.GetBytes(string.Join(",", Enumerable.Range(0, 600).Select(i => i * 7919 % 10007)));
    // Another message that repeats much of Big: with context takeover, its compressed form points back into Big's bytes.
    private static readonly byte[] Echoing = Encoding.ASCII.GetBytes(string.Join(",", Enumerable.Range(0, 600).Select(i => i * 7919 % 10007)) + ";again");

    /// <summary>A server that sends, to each connection on /ws, Echoing framed per connection, Big prepared, both again, then "hi" prepared as text.</summary>
    private static Task<WsServer> BroadcastServerAsync(LoopWebSocketOptions options)
    {
        var big = new PreparedWebSocketMessage(Big, WebSocketMessageKind.Binary);
        var hi = new PreparedWebSocketMessage("hi");
        return WsServer.StartAsync(new Router().MapWebSocket("/ws", async socket =>
        {
            await socket.SendAsync(Echoing, WebSocketMessageKind.Binary);
            await socket.SendAsync(big);
            await socket.SendAsync(Echoing, WebSocketMessageKind.Binary);
            await socket.SendAsync(big);
            await socket.SendAsync(hi);
            while ((await socket.ReceiveMessageAsync()).Kind != WebSocketMessageKind.Close)
            {
            }
        }, options).HandleAsync);
    }

    [Fact]
    public async Task Every_connection_gets_the_same_frame_with_the_message_s_kind_and_bytes()
    {
        await using var server = await BroadcastServerAsync(new LoopWebSocketOptions { Compression = null });
        var frames = new List<(int Opcode, bool Fin, byte[] Payload)>();
        for (int i = 0; i < 2; i++)
        {
            using var client = new RawClient(server.Port);
            Assert.Equal(101, client.Handshake("/ws").Status);
            for (int m = 0; m < 5; m++) frames.Add(client.ReadFrame());
        }
        foreach (int at in new[] { 0, 5 })
        {
            Assert.Equal(Echoing, frames[at].Payload);
            Assert.Equal((2, true), (frames[at + 1].Opcode, frames[at + 1].Fin));
            Assert.Equal(Big, frames[at + 1].Payload);
            Assert.Equal(Echoing, frames[at + 2].Payload);
            Assert.Equal(Big, frames[at + 3].Payload);
            Assert.Equal((1, "hi"), (frames[at + 4].Opcode, Encoding.UTF8.GetString(frames[at + 4].Payload)));
        }
    }

    [Fact]
    public async Task Without_context_takeover_connections_get_the_message_compressed_once_and_it_inflates_to_its_bytes()
    {
        await using var server = await BroadcastServerAsync(new LoopWebSocketOptions());
        var payloads = new List<byte[]>();
        for (int i = 0; i < 2; i++)
        {
            using var client = new RawClient(server.Port);
            Assert.Contains("server_no_context_takeover", client.Handshake("/ws", ("Sec-WebSocket-Extensions", "permessage-deflate")).Head, StringComparison.Ordinal);
            client.ReadFrame(); // Echoing
            var (opcode, _, payload) = client.ReadFrame();
            Assert.Equal(2, opcode);
            Assert.True(client.LastRsv1);
            Assert.Equal(Big, CompressionTests.Inflate(payload));
            payloads.Add(payload);
        }
        Assert.Equal(payloads[0], payloads[1]);

        var message = new PreparedWebSocketMessage(Big, WebSocketMessageKind.Binary);
        Assert.True(MemoryMarshal.TryGetArray(message.CompressedFrameAt(CompressionLevel.Fastest), out var first));
        Assert.True(MemoryMarshal.TryGetArray(message.CompressedFrameAt(CompressionLevel.Fastest), out var again));
        Assert.Same(first.Array, again.Array);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Our_client_reads_prepared_messages_between_others_with_and_without_context_takeover(bool serverTakeover)
    {
        var options = new LoopWebSocketOptions { Compression = new PerMessageDeflateOptions { ServerContextTakeover = serverTakeover } };
        await using var server = await BroadcastServerAsync(options);
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync(server.Uri(), options);
            Assert.Equal(!serverTakeover, socket.Extensions!.Contains("server_no_context_takeover", StringComparison.Ordinal));
            // With takeover, the second Echoing refers back to the first: had Big gone out compressed apart from the
            // connection's compressor, its history and the client's window would differ from there on.
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(Echoing, (await socket.ReceiveMessageAsync()).Data.ToArray());
                Assert.Equal(Big, (await socket.ReceiveMessageAsync()).Data.ToArray());
            }
            Assert.Equal("hi", (await socket.ReceiveMessageAsync()).Text);
            await socket.CloseAsync();
        });
    }

    [Fact]
    public async Task A_client_masks_a_prepared_message_per_frame_and_cannot_send_one_inside_a_message_sent_in_pieces()
    {
        await using var server = await WsServer.EchoAsync();
        var message = new PreparedWebSocketMessage(Big, WebSocketMessageKind.Binary);
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync(server.Uri());
            for (int i = 0; i < 2; i++)
            {
                await socket.SendAsync(message);
                var back = await socket.ReceiveMessageAsync();
                Assert.Equal(WebSocketMessageKind.Binary, back.Kind);
                Assert.Equal(Big, back.Data.ToArray());
            }
            await socket.SendAsync("part"u8.ToArray(), WebSocketMessageKind.Text, endOfMessage: false);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await socket.SendAsync(message));
            await socket.SendAsync(" end"u8.ToArray(), WebSocketMessageKind.Text);
            Assert.Equal("part end", (await socket.ReceiveMessageAsync()).Text);
            await socket.CloseAsync();
        });
    }

    [Fact]
    public void A_prepared_message_is_text_or_binary()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PreparedWebSocketMessage([1], WebSocketMessageKind.Close));
        Assert.Throws<ArgumentNullException>(() => new PreparedWebSocketMessage(null!));
        Assert.Equal(WebSocketMessageKind.Text, new PreparedWebSocketMessage("é").Kind);
        Assert.Equal("é"u8.ToArray(), new PreparedWebSocketMessage("é").Data.ToArray());
    }
}
