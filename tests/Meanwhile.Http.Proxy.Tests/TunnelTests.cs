using System.Net;
using System.Net.Sockets;
using System.Text;
using Meanwhile.Http.Server;
using Meanwhile.Http.WebSockets;

namespace Meanwhile.Http.Proxy.Tests;

/// <summary>
/// <c>Upgrade</c> through the proxy: WebSocket clients (Python's websockets, Node's ws) reach WebSocket servers (ours,
/// Node's ws) over a tunnel, large messages both ways; an upstream dying mid-tunnel, a refused upgrade, another protocol
/// answered with 101, an offer the upstream ignores, and the tunnel's idle timeout.
/// </summary>
public sealed class TunnelTests
{
    private const string Python = "/usr/bin/python3"; // Debian's, which has python3-websockets
    private const string NodeWs = "/usr/share/nodejs/ws";

    // A Node ws echo server that greets each client with a 3 MiB message of sevens (so bytes follow its 101 at once).
    private const string NodeWsServer = $$"""
        const { WebSocketServer } = require('{{NodeWs}}');
        const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 << 20 }, () => console.log('listening ' + wss.address().port));
        wss.on('connection', (ws, req) => {
          console.log('connection via ' + req.headers['via']);
          ws.send(Buffer.alloc(3 << 20, 7));
          ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
        });
        """;

    // A Node http server that answers any Upgrade with 101, writes a greeting and then echoes the raw bytes; "plain" otherwise.
    private const string NodeRawUpgradeServer = """
        const http = require('http');
        const server = http.createServer((req, res) => res.end('plain'));
        server.on('connection', () => console.log('connection'));
        server.on('upgrade', (req, socket, head) => {
          socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: ' + req.headers.upgrade + '\r\nConnection: Upgrade\r\n\r\nhello after 101;');
          if (head.length) socket.write(head);
          socket.pipe(socket);
        });
        server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
        """;

    [ToolFact(Python)]
    public async Task Python_websockets_reaches_our_WebSocket_echo_with_4_MiB_messages_and_its_close_code_back()
    {
        await using var upstream = await InProcessUpstream.StartAsync(new Router()
            .MapWebSocket("/ws", EchoAsync, new LoopWebSocketOptions { MaxMessageBytes = 8 << 20 }).HandleAsync);
        var proxy = await RunningProxy.StartAsync(upstream.Uri);
        try
        {
            var (code, stdout, stderr) = Tool.RunBytes(Python, ["-c", $$"""
                import asyncio, websockets
                async def main():
                    async with websockets.connect('ws://127.0.0.1:{{proxy.Port}}/ws', max_size=None) as ws:
                        await ws.send('héllo')
                        print(await ws.recv())
                        big = bytes(range(256)) * 16384
                        await ws.send(big)
                        data = await ws.recv()
                        print(len(data), data == big)
                        await ws.close(code=4000, reason='bye')
                        print('closed', ws.close_code)
                asyncio.run(main())
                """]);
            Assert.True(code == 0, stderr);
            Assert.Equal("héllo\n4194304 True\nclosed 4000\n", Encoding.UTF8.GetString(stdout));
        }
        finally
        {
            await proxy.DisposeAsync();
        }
        Assert.Equal(0, proxy.ConnectionsCutAtShutdown); // the tunnel had ended with the WebSocket
        Assert.Equal(0, OwnSockets.ConnectionsToRemotePort(upstream.Port));
    }

    [ToolFact("node")]
    public async Task Node_ws_reaches_a_node_ws_server_with_a_3_MiB_greeting_and_a_5_MiB_echo()
    {
        var (server, port) = PeerProcess.Start("node", ["-e", NodeWsServer], @"^listening (\d+)$");
        using var _ = server;
        await using var proxy = await RunningProxy.StartAsync(new Uri($"http://127.0.0.1:{port}"));
        var (code, stdout, stderr) = Tool.RunBytes("node", ["-e", $$"""
            const WebSocket = require('{{NodeWs}}');
            const ws = new WebSocket('ws://127.0.0.1:{{proxy.Port}}/chat', { maxPayload: 64 << 20 });
            const big = Buffer.alloc(5 << 20);
            for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 255;
            const out = [];
            ws.on('message', (data, isBinary) => {
              if (out.length === 0) { out.push('greeting ' + data.length + ' ' + data.every(b => b === 7)); ws.send(big); }
              else { out.push('echo ' + data.length + ' ' + data.equals(big)); ws.close(1000, 'done'); }
            });
            ws.on('close', code => console.log(out.join('|') + '|close ' + code));
            ws.on('error', e => { console.error(e.message); process.exit(3); });
            """]);
        Assert.True(code == 0, stderr);
        Assert.Equal("greeting 3145728 true|echo 5242880 true|close 1000\n", Encoding.UTF8.GetString(stdout));
        Assert.Equal(1, server.Count("connection via 1.1 meanwhile"));
    }

    [ToolFact(Python, "node")]
    public async Task An_upstream_killed_mid_tunnel_closes_the_client_and_leaves_no_socket_open()
    {
        var (server, port) = PeerProcess.Start("node", ["-e", NodeWsServer], @"^listening (\d+)$");
        int upstreamPort = int.Parse(port, System.Globalization.CultureInfo.InvariantCulture);
        var proxy = await RunningProxy.StartAsync(new Uri($"http://127.0.0.1:{port}"));
        try
        {
            var (client, _) = PeerProcess.Start(Python, ["-u", "-c", $$"""
                import asyncio, websockets
                async def main():
                    async with websockets.connect('ws://127.0.0.1:{{proxy.Port}}/', max_size=None) as ws:
                        greeting = await ws.recv()
                        print('open', len(greeting), flush=True)
                        try:
                            await ws.recv()
                        except websockets.ConnectionClosed:
                            pass
                        print('closed', ws.close_code, flush=True)
                asyncio.run(main())
                """], "^open 3145728$");
            using (client)
            {
                Assert.Equal(1, OwnSockets.ConnectionsToRemotePort(upstreamPort));
                server.Dispose(); // killed: its sockets close under the tunnel
                await client.WaitForAsync("closed 1006", 1, TimeSpan.FromSeconds(30)); // no close frame: the connection just ended
            }
        }
        finally
        {
            server.Dispose();
            await proxy.DisposeAsync();
        }
        // A tunnel left running would have been cut at the shutdown deadline; its upstream socket would still be open.
        Assert.Equal(0, proxy.ConnectionsCutAtShutdown);
        Assert.Equal(0, OwnSockets.ConnectionsToRemotePort(upstreamPort));
        Assert.Equal(0, OwnSockets.ConnectionsOnLocalPort(proxy.Port));
    }

    [ToolFact("curl")]
    public async Task An_upstream_refusing_the_upgrade_has_its_403_relayed_and_the_client_connection_kept()
    {
        await using var upstream = await InProcessUpstream.StartAsync((request, response) =>
        {
            response.StatusCode = request.Head.ConnectionUpgrade ? 403 : 200;
            response.Write(request.Head.ConnectionUpgrade ? "no WebSocket here\n"u8 : "plain\n"u8);
            return ValueTask.CompletedTask;
        });
        await using var proxy = await RunningProxy.StartAsync(upstream.Uri);
        var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "-w", "%{http_code} %{num_connects}\n",
            "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            proxy.Url + "/ws", proxy.Url + "/ws"]);
        Assert.True(code == 0, stderr);
        // Both answered on one client connection (the second connects nothing).
        Assert.Equal("no WebSocket here\n403 1\nno WebSocket here\n403 0\n", Encoding.ASCII.GetString(body));
    }

    [ToolFact("node", "curl")]
    public async Task Another_protocol_answered_with_101_is_tunnelled_on_a_connection_of_its_own_with_half_close_passed_on()
    {
        var (server, port) = PeerProcess.Start("node", ["-e", NodeRawUpgradeServer], @"^listening (\d+)$");
        using var _ = server;
        await using var proxy = await RunningProxy.StartAsync(new Uri($"http://127.0.0.1:{port}"));
        Assert.Equal("plain", Encoding.ASCII.GetString(Tool.RunBytes("curl", ["-sS", proxy.Url + "/"]).Stdout)); // pools a connection

        using (var client = await RawClient.UpgradeAsync(proxy.Port, "echo/1"))
        {
            Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", client.Head, StringComparison.Ordinal);
            Assert.Contains("\r\nUpgrade: echo/1\r\nConnection: Upgrade\r\n", client.Head, StringComparison.Ordinal);
            Assert.Equal("hello after 101;", await client.ReadAsync("hello after 101;".Length));
            await client.SendAsync("ping");
            Assert.Equal("ping", await client.ReadAsync(4));
            client.Socket.Shutdown(SocketShutdown.Send); // the FIN goes to node, whose echo ends, whose FIN comes back
            Assert.Equal(0, await client.ReadEndAsync());
        }

        Assert.Equal("plain", Encoding.ASCII.GetString(Tool.RunBytes("curl", ["-sS", proxy.Url + "/"]).Stdout));
        // The pooled connection served both plain requests; the tunnel had one of its own, which never went back to the pool.
        Assert.Equal(2, server.Count("connection"));
    }

    [ToolFact("node", "curl")]
    public async Task An_h2c_offer_the_upstream_ignores_is_forwarded_and_its_plain_answer_relayed()
    {
        using var node = new NodeUpstream();
        await using var proxy = await RunningProxy.StartAsync(node.Uri);
        var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--http2", "-w", "\n%{http_version} %{http_code}", proxy.Url + "/headers"]);
        Assert.True(code == 0, stderr);
        string text = Encoding.ASCII.GetString(body);
        Assert.EndsWith("\n1.1 200", text, StringComparison.Ordinal);
        Assert.Contains("\"upgrade\":\"h2c\"", text, StringComparison.Ordinal);
        Assert.Contains("\"connection\":\"upgrade\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("http2-settings", text, StringComparison.Ordinal); // named by the client's Connection: hop-by-hop
    }

    [ToolFact("node")]
    public async Task A_tunnel_idle_for_its_timeout_is_closed_on_both_sides()
    {
        var (server, port) = PeerProcess.Start("node", ["-e", NodeRawUpgradeServer], @"^listening (\d+)$");
        using var _ = server;
        var proxy = await RunningProxy.StartAsync(new ProxyOptions { Upstreams = [new Uri($"http://127.0.0.1:{port}")], TunnelIdleTimeout = TimeSpan.FromMilliseconds(300) });
        try
        {
            using var client = await RawClient.UpgradeAsync(proxy.Port, "echo");
            Assert.Equal("hello after 101;", await client.ReadAsync("hello after 101;".Length));
            await client.SendAsync("ping");
            Assert.Equal("ping", await client.ReadAsync(4));
            var quiet = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(0, await client.ReadEndAsync());
            Assert.True(quiet.Elapsed >= TimeSpan.FromMilliseconds(250), $"closed after {quiet.Elapsed}");
        }
        finally
        {
            await proxy.DisposeAsync();
        }
        Assert.Equal(0, proxy.ConnectionsCutAtShutdown);
        Assert.Equal(0, OwnSockets.ConnectionsToRemotePort(int.Parse(port, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [ToolFact("chromium")]
    public async Task Chromium_opens_a_WebSocket_through_the_proxy_from_a_page_the_proxy_relayed()
    {
        const string Page = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>ws</title></head><body>
            <p id="result">waiting</p>
            <script>
            const ws = new WebSocket('ws://' + location.host + '/ws');
            ws.binaryType = 'arraybuffer';
            const seen = [];
            ws.onopen = () => { ws.send('héllo through the proxy'); ws.send(new Uint8Array(1 << 20).fill(9)); };
            ws.onmessage = e => {
              seen.push(typeof e.data === 'string' ? 'text:' + e.data : 'binary:' + e.data.byteLength + ':' + new Uint8Array(e.data).every(b => b === 9));
              if (seen.length === 2) ws.close(1000, 'page done');
            };
            const report = text => { document.getElementById('result').textContent = text; fetch('/report?' + encodeURIComponent(text)); };
            ws.onclose = e => report(seen.join(' | ') + ' | close ' + e.code + ' ' + e.wasClean);
            ws.onerror = () => report('error');
            </script>
            <!-- Answered once the page has reported, so the load event (and the DOM dump) waits for the WebSocket. -->
            <img src="/after" alt="">
            </body></html>
            """;
        var reported = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var router = new Router().MapWebSocket("/ws", EchoAsync, new LoopWebSocketOptions { MaxMessageBytes = 4 << 20 });
        router.MapGet("/", (request, response) =>
        {
            response.AddHeader("Content-Type"u8, "text/html; charset=utf-8"u8);
            response.Write(Encoding.UTF8.GetBytes(Page));
            return ValueTask.CompletedTask;
        });
        router.MapGet("/report", (request, response) =>
        {
            reported.TrySetResult(Uri.UnescapeDataString(Encoding.UTF8.GetString(request.Query)));
            response.StatusCode = 204;
            return ValueTask.CompletedTask;
        });
        router.MapGet("/after", async (request, response) =>
        {
            await reported.Task.WaitAsync(TimeSpan.FromSeconds(60));
            response.StatusCode = 204;
        });
        await using var upstream = await InProcessUpstream.StartAsync(router.HandleAsync);
        await using var proxy = await RunningProxy.StartAsync(upstream.Uri);
        using var profile = new TempDir();
        var (code, dom, stderr) = Tool.RunBytes("chromium",
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={profile.Path}", "--dump-dom", proxy.Url + "/",
        ], timeoutSeconds: 120);
        Assert.True(code == 0, $"chromium failed ({code}): {stderr}");
        const string Expected = "text:héllo through the proxy | binary:1048576:true | close 1000 true";
        Assert.Equal(Expected, await reported.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains($"<p id=\"result\">{Expected}</p>", Encoding.UTF8.GetString(dom), StringComparison.Ordinal);
    }

    private static async ValueTask EchoAsync(LoopWebSocket socket)
    {
        while (true)
        {
            var message = await socket.ReceiveMessageAsync();
            if (message.IsClose) return;
            await socket.SendAsync(message.Data, message.Kind);
        }
    }
}

/// <summary>A Meanwhile server on port 0 as an upstream; disposing it stops it.</summary>
internal sealed class InProcessUpstream : IAsyncDisposable
{
    private readonly HttpServer _server;

    private InProcessUpstream(HttpServer server) => _server = server;

    public int Port => _server.Port;

    public Uri Uri => new($"http://127.0.0.1:{Port}");

    public static async Task<InProcessUpstream> StartAsync(RequestHandler handler)
    {
        var server = new HttpServer(handler, new HttpServerOptions { Port = 0, Loops = 1 });
        await server.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return new InProcessUpstream(server);
    }

    public async ValueTask DisposeAsync() => await _server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
}

/// <summary>A raw TCP client that asks the proxy to upgrade, then speaks bytes; every wait has a deadline.</summary>
internal sealed class RawClient : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly List<byte> _pending = [];

    private RawClient(Socket socket) => Socket = socket;

    public Socket Socket { get; }

    /// <summary>The response head, through its blank line.</summary>
    public string Head { get; private set; } = "";

    public static async Task<RawClient> UpgradeAsync(int port, string protocol)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var client = new RawClient(socket);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(Deadline);
        await client.SendAsync($"GET /tunnel HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: {protocol}\r\n\r\n");
        while (true)
        {
            int end = Encoding.ASCII.GetString([.. client._pending]).IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                client.Head = Encoding.ASCII.GetString([.. client._pending], 0, end + 4);
                client._pending.RemoveRange(0, end + 4);
                return client;
            }
            if (await client.ReceiveAsync() == 0) throw new IOException("The proxy closed before a response head.");
        }
    }

    public async Task SendAsync(string text) => await Socket.SendAsync(Encoding.ASCII.GetBytes(text)).WaitAsync(Deadline);

    /// <summary>Exactly <paramref name="count"/> bytes, as ASCII.</summary>
    public async Task<string> ReadAsync(int count)
    {
        while (_pending.Count < count)
        {
            if (await ReceiveAsync() == 0) throw new IOException($"The stream ended after {_pending.Count} of {count} bytes.");
        }
        string text = Encoding.ASCII.GetString([.. _pending], 0, count);
        _pending.RemoveRange(0, count);
        return text;
    }

    /// <summary>Waits for the end of the stream; returns the bytes that came before it (0 when none).</summary>
    public async Task<int> ReadEndAsync()
    {
        while (await ReceiveAsync() > 0) { }
        return _pending.Count;
    }

    private async Task<int> ReceiveAsync()
    {
        var buffer = new byte[4096];
        int n = await Socket.ReceiveAsync(buffer).WaitAsync(Deadline);
        _pending.AddRange(buffer.AsSpan(0, n));
        return n;
    }

    public void Dispose() => Socket.Dispose();
}
