using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>
/// Real peers on both sides: Python's websockets (Debian python3-websockets) and Node's ws (node-ws) as clients of our
/// server and as servers for our client, and .NET's ClientWebSocket against our server.
/// </summary>
public sealed class PeerTests
{
    private const string Python = "/usr/bin/python3"; // Debian's, which has python3-websockets
    private const string NodeWs = "/usr/share/nodejs/ws";

    private static bool HasPythonWebsockets => File.Exists(Python) && PeerOutput.Of(PeerProcess.Start(Python, "-c", "import websockets")).ExitCode == 0;

    private static bool HasNodeWs => Directory.Exists(NodeWs) && PeerProcess.IsInstalled("node");

    [Fact]
    public async Task Python_websockets_as_a_client_gets_text_binary_and_fragmented_messages_echoed_and_a_clean_close()
    {
        Assert.True(HasPythonWebsockets, "python3-websockets is not installed (./test.sh installs it)");
        await using var server = await WsServer.EchoAsync(new LoopWebSocketOptions { MaxMessageBytes = 4 * 1024 * 1024 });
        var (code, stdout, stderr) = PeerOutput.Of(PeerProcess.Start(Python, "-c", $$"""
            import asyncio, websockets
            async def main():
                async with websockets.connect('ws://127.0.0.1:{{server.Port}}/ws', max_size=None) as ws:
                    await ws.send('héllo')
                    print(await ws.recv())
                    await ws.send(bytes(range(256)) * 8192)
                    data = await ws.recv()
                    print(len(data), data == bytes(range(256)) * 8192)
                    await ws.send(['frag', 'ment', 'ed'])
                    print(await ws.recv())
                    await ws.close(code=4000, reason='bye')
                    print('closed', ws.close_code)
            asyncio.run(main())
            """));
        Assert.True(code == 0, stderr);
        Assert.Equal("héllo\n2097152 True\nfragmented\nclosed 4000\n", stdout);
    }

    [Fact]
    public async Task Node_ws_as_a_client_gets_messages_echoed_and_its_close_code_answered()
    {
        Assert.True(HasNodeWs, "node-ws is not installed (./test.sh installs it)");
        await using var server = await WsServer.EchoAsync();
        var (code, stdout, stderr) = PeerOutput.Of(PeerProcess.Start("node", "-e", $$"""
            const WebSocket = require('{{NodeWs}}');
            const ws = new WebSocket('ws://127.0.0.1:{{server.Port}}/ws');
            const out = [];
            ws.on('open', () => { ws.send('text é'); ws.send(Buffer.from([1, 2, 3]), { binary: true }); });
            ws.on('message', (data, isBinary) => {
              out.push(isBinary ? 'binary ' + data.length : 'text ' + data.toString());
              if (out.length === 2) ws.close(1000, 'done');
            });
            ws.on('close', (code, reason) => { console.log(out.join('|') + '|close ' + code); });
            ws.on('error', e => { console.error(e.message); process.exit(3); });
            """));
        Assert.True(code == 0, stderr);
        Assert.Equal("text text é|binary 3|close 1000\n", stdout);
    }

    [Fact]
    public async Task Dotnet_ClientWebSocket_talks_to_our_server()
    {
        await using var server = await WsServer.EchoAsync();
        using var client = new ClientWebSocket();
        await client.ConnectAsync(server.Uri(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        await client.SendAsync("ping from .NET"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1024];
        var result = await client.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        Assert.Equal("ping from .NET", Encoding.UTF8.GetString(buffer, 0, result.Count));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    [Fact]
    public void Our_client_talks_to_a_python_websockets_server()
    {
        Assert.True(HasPythonWebsockets, "python3-websockets is not installed (./test.sh installs it)");
        var (peer, ready) = PeerProcess.Start(Python, ["-u", "-c", """
            import asyncio, websockets
            async def handler(ws, path=None):
                async for message in ws:
                    await ws.send(message[::-1])
                await ws.wait_closed()
            async def main():
                async with websockets.serve(handler, '127.0.0.1', 0, subprotocols=['chat']) as server:
                    print('port', server.sockets[0].getsockname()[1], flush=True)
                    await asyncio.Future()
            asyncio.run(main())
            """], line => line.StartsWith("port ", StringComparison.Ordinal));
        using var _ = peer;
        int port = int.Parse(ready[5..]);
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync($"ws://127.0.0.1:{port}/", new LoopWebSocketOptions { SubProtocols = ["chat"] });
            Assert.Equal("chat", socket.SubProtocol);
            await socket.SendTextAsync("abc é");
            Assert.Equal("é cba", (await socket.ReceiveMessageAsync()).Text);
            var big = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();
            await socket.SendAsync(big, WebSocketMessageKind.Binary);
            var back = await socket.ReceiveMessageAsync();
            Assert.True(big.Reverse().SequenceEqual(back.Data.ToArray()));
            await socket.CloseAsync(WebSocketCloseCode.NormalClosure, "done");
            Assert.Equal(LoopWebSocketState.Closed, socket.State);
        });
    }

    [Fact]
    public void Our_client_talks_to_a_node_ws_server_that_pings_and_closes_first()
    {
        Assert.True(HasNodeWs, "node-ws is not installed (./test.sh installs it)");
        var (peer, ready) = PeerProcess.Start("node", ["-e", $$"""
            const { WebSocketServer } = require('{{NodeWs}}');
            const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => console.log('port ' + wss.address().port));
            wss.on('connection', ws => {
              ws.on('pong', data => ws.send('pong ' + data.toString()));
              ws.on('message', (data, isBinary) => {
                if (data.toString() === 'bye') { ws.close(4001, 'server leaves'); return; }
                ws.ping('p1');
                ws.send(data, { binary: isBinary });
              });
            });
            """], line => line.StartsWith("port ", StringComparison.Ordinal));
        using var _ = peer;
        int port = int.Parse(ready[5..]);
        Loops.Run(async () =>
        {
            await using var socket = await LoopWebSocket.ConnectAsync($"ws://127.0.0.1:{port}/");
            await socket.SendTextAsync("hi");
            // The ping is answered inside the receive; the server reports the pong after echoing.
            Assert.Equal("hi", (await socket.ReceiveMessageAsync()).Text);
            Assert.Equal("pong p1", (await socket.ReceiveMessageAsync()).Text);
            await socket.SendTextAsync("bye");
            Assert.True((await socket.ReceiveMessageAsync()).IsClose);
            Assert.Equal((WebSocketCloseCode)4001, socket.CloseCode);
            Assert.Equal("server leaves", socket.CloseReason);
        });
    }
}
