using System.Security.Cryptography.X509Certificates;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>
/// wss:// on the server: a WebSocket upgrade over an HTTPS connection, with Python's websockets, Node's ws and our own
/// client trusting a self-signed certificate; compression and the close handshake run over TLS as over TCP.
/// </summary>
public sealed class WssTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private const string NodeWs = "/usr/share/nodejs/ws";
    private readonly TestCertificates _files = new();
    private readonly string _certificate;
    private readonly string _key;
    private readonly X509Certificate2 _certificateObject;

    public WssTests() => (_certificate, _key, _certificateObject) = _files.Server("localhost", "localhost", "127.0.0.1");

    public void Dispose()
    {
        _certificateObject.Dispose();
        _files.Dispose();
    }

    private Task<WsServer> StartAsync() => WsServer.StartAsync(
        new Router().MapWebSocket("/ws", Echo.RunAsync, new LoopWebSocketOptions { MaxMessageBytes = 4 << 20 }).HandleAsync,
        new HttpServerOptions { Https = new HttpsOptions { Certificate = ServerCertificate.LoadPem(_certificate, _key) } });

    [Fact]
    public async Task Python_websockets_opens_wss_with_the_certificate_as_ca_and_gets_compressed_echoes_and_a_clean_close()
    {
        await using var server = await StartAsync();
        var (code, stdout, stderr) = PeerOutput.Of(PeerProcess.Start(Python, "-c", $$"""
            import asyncio, ssl, websockets
            async def main():
                context = ssl.create_default_context(cafile='{{_certificate}}')
                async with websockets.connect('{{server.Uri()}}', ssl=context, max_size=None) as ws:
                    print(ws.transport.get_extra_info('ssl_object').version(), ws.response_headers['Sec-WebSocket-Extensions'])
                    await ws.send('sécure ' * 50000)
                    print(len(await ws.recv()))
                    await ws.send(bytes(range(256)) * 4096)
                    print(len(await ws.recv()))
                    await ws.close(code=4001, reason='tls done')
                    print('closed', ws.close_code)
            asyncio.run(main())
            """));
        Assert.True(code == 0, stderr);
        Assert.Equal("TLSv1.3 permessage-deflate; server_no_context_takeover\n350000\n1048576\nclosed 4001\n", stdout);
    }

    [Fact]
    public async Task Node_ws_opens_wss_with_the_certificate_as_ca()
    {
        await using var server = await StartAsync();
        var (code, stdout, stderr) = PeerOutput.Of(PeerProcess.Start("node", "-e", $$"""
            const WebSocket = require('{{NodeWs}}');
            const fs = require('fs');
            const ws = new WebSocket('{{server.Uri()}}', { ca: fs.readFileSync('{{_certificate}}'), perMessageDeflate: true });
            const out = [];
            ws.on('open', () => { out.push(ws._socket.getProtocol()); ws.send('over tls '.repeat(1000)); ws.send(Buffer.alloc(70000, 7)); });
            ws.on('message', (data, isBinary) => {
              out.push((isBinary ? 'binary ' : 'text ') + data.length);
              if (out.length === 3) ws.close(1000, 'done');
            });
            ws.on('close', code => console.log(out.join('|') + '|close ' + code));
            ws.on('error', e => { console.error(e.message); process.exit(3); });
            """));
        Assert.True(code == 0, stderr);
        Assert.Equal("TLSv1.3|text 9000|binary 70000|close 1000\n", stdout);
    }

    [Fact]
    public async Task Our_client_opens_wss_to_our_server_and_the_server_closes_it_on_shutdown_with_1001()
    {
        var server = await StartAsync();
        try
        {
            Loops.Run(async () =>
            {
                var trust = new LoopWebSocketOptions { ServerCertificateValidation = (_, certificate, _, _) => certificate?.GetCertHashString() == _certificateObject.GetCertHashString() };
                await using var socket = await LoopWebSocket.ConnectAsync(server.Uri(), trust);
                await socket.SendTextAsync("hello over TLS, hello over TLS");
                Assert.Equal("hello over TLS, hello over TLS", (await socket.ReceiveMessageAsync()).Text);
                var stopping = server.DisposeAsync().AsTask();
                Assert.True((await socket.ReceiveMessageAsync()).IsClose);
                Assert.Equal(WebSocketCloseCode.GoingAway, socket.CloseCode);
                await stopping.WaitAsync(TimeSpan.FromSeconds(30));
            });
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
