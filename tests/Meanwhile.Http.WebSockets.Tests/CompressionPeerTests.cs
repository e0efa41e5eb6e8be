using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>
/// permessage-deflate with real peers: Python's websockets (compression on by default) and Node's ws
/// (<c>perMessageDeflate: true</c>) as clients of our server and as servers for our client, and .NET's ClientWebSocket
/// with <c>DangerousDeflateOptions</c>.
/// </summary>
public sealed class CompressionPeerTests
{
    private const string Python = "/usr/bin/python3";
    private const string NodeWs = "/usr/share/nodejs/ws";

    /// <summary>An echo server that records the extensions each connection agreed.</summary>
    private static async Task<(WsServer Server, ConcurrentQueue<string?> Agreed)> StartAsync(LoopWebSocketOptions? options = null)
    {
        var agreed = new ConcurrentQueue<string?>();
        var server = await WsServer.StartAsync(new Router().MapWebSocket("/ws", socket =>
        {
            agreed.Enqueue(socket.Extensions);
            return Echo.RunAsync(socket);
        }, options ?? new LoopWebSocketOptions { MaxMessageBytes = 4 << 20 }).HandleAsync);
        return (server, agreed);
    }

    [Fact]
    public async Task Python_websockets_compresses_to_our_server_and_inflates_its_echo_and_a_window_we_cannot_keep_is_declined()
    {
        var (server, agreed) = await StartAsync();
        await using var _ = server;
        var (code, stdout, stderr) = PeerOutput.Of(PeerProcess.Start(Python, "-c", $$"""
            import asyncio, websockets
            from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
            async def main():
                async with websockets.connect('ws://127.0.0.1:{{server.Port}}/ws', max_size=None) as ws:
                    print(ws.response_headers['Sec-WebSocket-Extensions'])
                    for i in range(3):
                        await ws.send('abcé' * 100000)
                        back = await ws.recv()
                        print(len(back), back == 'abcé' * 100000)
                    await ws.send(['frag' * 50, 'ment' * 50])
                    print(len(await ws.recv()))
                small = [ClientPerMessageDeflateFactory(server_max_window_bits=10)]
                async with websockets.connect('ws://127.0.0.1:{{server.Port}}/ws', extensions=small) as ws:
                    await ws.send('uncompressed' * 10)
                    print(len(await ws.recv()), ws.response_headers.get('Sec-WebSocket-Extensions'))
            asyncio.run(main())
            """));
        Assert.True(code == 0, stderr);
        Assert.Equal("permessage-deflate; server_no_context_takeover\n400000 True\n400000 True\n400000 True\n400\n120 None\n", stdout);
        Assert.Equal(["permessage-deflate; server_no_context_takeover", null], agreed);
    }

    [Fact]
    public async Task Node_ws_with_perMessageDeflate_talks_to_our_server_that_keeps_its_context()
    {
        var (server, agreed) = await StartAsync(new LoopWebSocketOptions { Compression = new PerMessageDeflateOptions { ServerContextTakeover = true } });
        await using var _ = server;
        var (code, stdout, stderr) = PeerOutput.Of(PeerProcess.Start("node", "-e", $$"""
            const WebSocket = require('{{NodeWs}}');
            const ws = new WebSocket('ws://127.0.0.1:{{server.Port}}/ws', { perMessageDeflate: true });
            const out = [];
            const big = 'node says hello; '.repeat(5000);
            ws.on('open', () => { out.push(ws.extensions); ws.send(big); ws.send(big); ws.send(Buffer.from([1, 2, 3])); });
            ws.on('message', (data, isBinary) => {
              out.push(isBinary ? 'binary ' + data.length : 'text ' + (data.toString() === big));
              if (out.length === 4) ws.close(1000);
            });
            ws.on('close', code => console.log(out.join('|') + '|close ' + code));
            ws.on('error', e => { console.error(e.message); process.exit(3); });
            """));
        Assert.True(code == 0, stderr);
        Assert.Equal("permessage-deflate|text true|text true|binary 3|close 1000\n", stdout);
        Assert.Equal("permessage-deflate", Assert.Single(agreed));
    }

    [Fact]
    public void Our_client_inflates_a_python_server_whose_window_is_12_bits()
    {
        var (peer, ready) = PeerProcess.Start(Python, ["-u", "-c", """
            import asyncio, websockets
            async def handler(ws, path=None):
                async for message in ws:
                    await ws.send(message[::-1])
            async def main():
                async with websockets.serve(handler, '127.0.0.1', 0, max_size=None) as server:
                    print('port', server.sockets[0].getsockname()[1], flush=True)
                    await asyncio.Future()
            asyncio.run(main())
            """], line => line.StartsWith("port ", StringComparison.Ordinal));
        using var _ = peer;
        int port = int.Parse(ready[5..]);
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync($"ws://127.0.0.1:{port}/", new LoopWebSocketOptions { MaxMessageBytes = 4 << 20 });
            Assert.Contains("server_max_window_bits=12", socket.Extensions);
            var text = string.Concat(Enumerable.Range(0, 40_000).Select(i => (char)('a' + i * 7 % 26)));
            for (int i = 0; i < 3; i++)
            {
                await socket.SendTextAsync(text);
                Assert.Equal(new string(text.Reverse().ToArray()), (await socket.ReceiveMessageAsync()).Text);
            }
            await socket.CloseAsync();
        });
    }

    [Fact]
    public void Our_client_talks_compressed_to_a_node_ws_server()
    {
        var (peer, ready) = PeerProcess.Start("node", ["-e", $$"""
            const { WebSocketServer } = require('{{NodeWs}}');
            const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true }, () => console.log('port ' + wss.address().port));
            wss.on('connection', (ws, request) => {
              ws.on('message', (data, isBinary) => ws.send(isBinary ? data : request.headers['sec-websocket-extensions'] + ' / ' + ws.extensions + ' / ' + data.length));
            });
            """], line => line.StartsWith("port ", StringComparison.Ordinal));
        using var _ = peer;
        int port = int.Parse(ready[5..]);
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync($"ws://127.0.0.1:{port}/");
            Assert.StartsWith("permessage-deflate", socket.Extensions);
            await socket.SendTextAsync(new string('z', 5000));
            Assert.Equal("permessage-deflate; server_no_context_takeover / permessage-deflate / 5000", (await socket.ReceiveMessageAsync()).Text);
            var data = Enumerable.Range(0, 200_000).Select(i => (byte)(i % 251 / 10)).ToArray();
            await socket.SendAsync(data, WebSocketMessageKind.Binary);
            var back = await socket.ReceiveMessageAsync();
            Assert.True(data.AsSpan().SequenceEqual(back.Data.Span));
            await socket.CloseAsync();
        });
    }

    [Fact]
    public async Task Dotnet_ClientWebSocket_with_DangerousDeflateOptions_compresses_both_ways_and_a_10_bit_server_window_is_declined()
    {
        var (server, agreed) = await StartAsync();
        await using var _ = server;
        using (var client = new ClientWebSocket())
        {
            client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions { ClientContextTakeover = true, ServerContextTakeover = false };
            await client.ConnectAsync(server.Uri(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            var message = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("from .NET, deflated; ", 3000)));
            for (int i = 0; i < 2; i++)
            {
                await client.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
                var back = new MemoryStream();
                var buffer = new byte[8192];
                WebSocketReceiveResult result;
                do
                {
                    result = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
                    back.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);
                Assert.Equal(message, back.ToArray());
            }
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }
        using (var client = new ClientWebSocket())
        {
            client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions { ServerMaxWindowBits = 10 };
            client.Options.CollectHttpResponseDetails = true;
            await client.ConnectAsync(server.Uri(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(client.HttpResponseHeaders!.ContainsKey("Sec-WebSocket-Extensions"));
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Equal(["permessage-deflate; server_no_context_takeover", null], agreed);
    }
}
