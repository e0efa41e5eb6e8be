using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>Meanwhile's client against Meanwhile's server: messages of every shape both ways, the close handshake.</summary>
public sealed class RoundTripTests
{
    [Fact]
    public async Task Text_and_binary_messages_of_every_size_come_back_whole_and_of_their_kind()
    {
        await using var server = await WsServer.EchoAsync(new LoopWebSocketOptions { MaxMessageBytes = 4 * 1024 * 1024 });
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync(server.Uri(), new LoopWebSocketOptions { MaxMessageBytes = 4 * 1024 * 1024 });
            await socket.SendTextAsync("héllo €");
            var text = await socket.ReceiveMessageAsync();
            Assert.Equal(WebSocketMessageKind.Text, text.Kind);
            Assert.Equal("héllo €", text.Text);

            foreach (int size in new[] { 0, 1, 125, 126, 65535, 65536, 3 * 1024 * 1024 })
            {
                var data = Enumerable.Range(0, size).Select(i => (byte)(i * 31)).ToArray();
                await socket.SendAsync(data, WebSocketMessageKind.Binary);
                var back = await socket.ReceiveMessageAsync();
                Assert.Equal(WebSocketMessageKind.Binary, back.Kind);
                Assert.True(data.AsSpan().SequenceEqual(back.Data.Span), $"{size} bytes");
            }
            await socket.CloseAsync(WebSocketCloseCode.NormalClosure, "done");
            Assert.Equal(LoopWebSocketState.Closed, socket.State);
            Assert.Equal(WebSocketCloseCode.NormalClosure, socket.CloseCode);
        });
    }

    [Fact]
    public async Task A_message_sent_in_pieces_arrives_as_one_message_and_can_be_read_in_pieces()
    {
        await using var server = await WsServer.EchoAsync();
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync(server.Uri());
            var parts = new[] { "frag", "men", "", "ted é" };
            for (int i = 0; i < parts.Length; i++)
                await socket.SendAsync(Encoding.UTF8.GetBytes(parts[i]), WebSocketMessageKind.Text, endOfMessage: i == parts.Length - 1);
            // The echo answers with one frame; read it three bytes at a time.
            var gathered = new List<byte>();
            var buffer = new byte[3];
            while (true)
            {
                var piece = await socket.ReceiveAsync(buffer);
                Assert.Equal(WebSocketMessageKind.Text, piece.Kind);
                gathered.AddRange(buffer.AsSpan(0, piece.Count).ToArray());
                if (piece.EndOfMessage) break;
            }
            Assert.Equal("fragmented é", Encoding.UTF8.GetString(gathered.ToArray()));
            await socket.CloseAsync();
        });
    }

    [Fact]
    public async Task A_handler_that_accepts_the_upgrade_itself_reads_the_request_first_and_chooses_a_subprotocol_offered()
    {
        var options = new LoopWebSocketOptions { SubProtocols = ["chat.v2", "chat.v1"] };
        await using var server = await WsServer.StartAsync((request, response) =>
        {
            if (!request.IsWebSocketRequest())
            {
                response.StatusCode = 404;
                return ValueTask.CompletedTask;
            }
            string room = Encoding.UTF8.GetString(request.Query);
            response.AcceptWebSocket(request, async socket =>
            {
                await socket.SendTextAsync($"room {room}, protocol {socket.SubProtocol}");
                await socket.ReceiveMessageAsync(); // until the client closes
            }, options);
            return ValueTask.CompletedTask;
        });
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync(server.Uri("/any?lobby"), new LoopWebSocketOptions { SubProtocols = ["chat.v1", "other"] });
            Assert.Equal("chat.v1", socket.SubProtocol);
            Assert.Equal("room lobby, protocol chat.v1", (await socket.ReceiveMessageAsync()).Text);
            await socket.CloseAsync();

            await using var none = await LoopWebSocket.ConnectAsync(server.Uri("/any?x"), new LoopWebSocketOptions { SubProtocols = ["unknown"] });
            Assert.Null(none.SubProtocol); // never one that was not offered
            Assert.Equal("room x, protocol ", (await none.ReceiveMessageAsync()).Text);
            await none.CloseAsync();
        });
    }

    [Fact]
    public async Task The_server_closing_first_is_answered_and_reported_with_its_code_and_reason()
    {
        await using var server = await WsServer.StartAsync(new Router().MapWebSocket("/ws", async socket =>
        {
            await socket.SendTextAsync("bye soon");
            await socket.CloseAsync((WebSocketCloseCode)4001, "custom reason");
        }).HandleAsync);
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync(server.Uri());
            Assert.Equal("bye soon", (await socket.ReceiveMessageAsync()).Text);
            var close = await socket.ReceiveMessageAsync();
            Assert.True(close.IsClose);
            Assert.Equal((WebSocketCloseCode)4001, socket.CloseCode);
            Assert.Equal("custom reason", socket.CloseReason);
            Assert.Equal(LoopWebSocketState.Closed, socket.State);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await socket.SendTextAsync("too late"));
        });
    }

    [Fact]
    public async Task Sends_from_several_tasks_leave_as_whole_frames_in_turn()
    {
        await using var server = await WsServer.EchoAsync();
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync(server.Uri());
            var big = new byte[1024 * 1024];
            var sends = new List<Task>();
            for (int i = 0; i < 8; i++)
            {
                byte mark = (byte)i;
                sends.Add(socket.SendAsync(Enumerable.Repeat(mark, big.Length).ToArray(), WebSocketMessageKind.Binary).AsTask());
            }
            await Task.WhenAll(sends);
            var seen = new HashSet<byte>();
            for (int i = 0; i < 8; i++)
            {
                var message = await socket.ReceiveMessageAsync();
                Assert.Equal(big.Length, message.Data.Length);
                byte first = message.Data.Span[0];
                Assert.True(message.Data.Span.IndexOfAnyExcept(first) < 0, "a message mixed with another");
                seen.Add(first);
            }
            Assert.Equal(8, seen.Count);
            await socket.CloseAsync();
        });
    }

    [Fact]
    public async Task Code_written_against_dotnets_WebSocket_runs_on_a_LoopWebSocket_from_the_loop_and_from_the_thread_pool()
    {
        await using var server = await WsServer.EchoAsync();
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync(server.Uri());
            System.Net.WebSockets.WebSocket adapted = socket.AsWebSocket();
            Assert.Equal("on the loop", await EchoThroughAsync(adapted, "on the loop"));
            // From a thread-pool thread: carried to the loop and back.
            Assert.Equal("from the pool", await Task.Run(() => EchoThroughAsync(adapted, "from the pool")));
            await adapted.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            Assert.Equal(System.Net.WebSockets.WebSocketState.Closed, adapted.State);
            Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, adapted.CloseStatus);
        });
    }

    /// <summary>Library-style code that knows only System.Net.WebSockets.</summary>
    private static async Task<string> EchoThroughAsync(System.Net.WebSockets.WebSocket socket, string text)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[256];
        var result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None);
        Assert.True(result.EndOfMessage);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
}
