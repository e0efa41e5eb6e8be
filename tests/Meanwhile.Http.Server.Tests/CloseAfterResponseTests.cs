using System.Collections.Concurrent;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// The close after a final response, plain and over TLS: a client that asked to close and was read to the end gets a
/// plain close (close_notify under TLS, no linger); one that may still be sending gets the lingering close, so a reset
/// cannot destroy its response. The linger never times out here (the virtual clock stands still).
/// </summary>
public sealed class CloseAfterResponseTests : IDisposable
{
    private readonly TestCertificates _files = new();
    private readonly BlockingCollection<ConnectionPhase> _phases = new();
    private readonly VirtualClock _clock = new() { AutoAdvance = false };

    public void Dispose() => _files.Dispose();

    private Task<TestServer> StartAsync(bool tls, RequestHandler? handler = null)
    {
        HttpsOptions? https = null;
        if (tls)
        {
            var (crt, key, _) = _files.Server("localhost", "localhost", "127.0.0.1");
            https = new HttpsOptions { Certificate = ServerCertificate.LoadPem(crt, key) };
        }
        return TestServer.StartAsync(handler ?? Handlers.Hello, new HttpServerOptions { TimeProvider = _clock, PhaseObserver = _phases.Add, Https = https });
    }

    private bool Lingered() => _phases.Contains(ConnectionPhase.Linger);

    [Fact]
    public async Task A_client_that_asked_to_close_is_closed_at_once_without_waiting_for_its_close()
    {
        await using var server = await StartAsync(tls: false);
        using var client = new RawClient(server.Port);
        client.Send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        var text = client.ReadToEnd();
        Assert.StartsWith("HTTP/1.1 200 ", text);
        Assert.EndsWith("Hello, World!", text);
        // The client still holds its socket open: a lingering server would wait for it (forever, on this clock).
        await server.Connections.WaitForNoneOpenAsync();
        Assert.False(Lingered());
    }

    [Fact]
    public async Task A_tls_client_that_asked_to_close_is_closed_at_once_without_waiting_for_its_close()
    {
        await using var server = await StartAsync(tls: true);
        using var client = TlsTestClient.Connect(server.Port);
        client.Ssl.Write(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        var (status, _, body) = client.ReadResponse();
        Assert.Equal(200, status);
        Assert.Equal("Hello, World!", body);
        Assert.Equal(0, client.Ssl.Read(new byte[16])); // the end of the session
        await server.Connections.WaitForNoneOpenAsync();
        Assert.False(Lingered());
    }

    [ToolFact("python3")]
    public async Task A_tls_close_after_a_response_ends_with_close_notify()
    {
        await using var server = await StartAsync(tls: true);
        // suppress_ragged_eofs=False: a TCP close without close_notify would raise SSLEOFError instead of reading b"".
        string script = """
            import socket, ssl, sys
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
            s = context.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"Hello, World!"), data
            print("close_notify")
            """;
        var (code, stdout, stderr) = Tool.Run("python3", ["-c", script, server.Port.ToString()]);
        Assert.True(code == 0, stderr);
        Assert.Equal("close_notify", stdout.Trim());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_keep_alive_client_the_server_closes_on_gets_a_lingering_close(bool tls)
    {
        // The client expected to keep the connection, so it may have sent another request already: closing at once
        // could reset the connection under the response.
        await using var server = await StartAsync(tls, (request, response) =>
        {
            response.CloseConnection = true;
            return Handlers.Hello(request, response);
        });
        if (tls)
        {
            using var client = TlsTestClient.Connect(server.Port);
            Assert.Equal("Hello, World!", client.Get("/").Body);
            Assert.Equal(0, client.Ssl.Read(new byte[16]));
            Assert.Equal(1, server.Connections.Open); // lingering until the client closes
        }
        else
        {
            using var client = new RawClient(server.Port);
            client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.EndsWith("Hello, World!", client.ReadToEnd());
            Assert.Equal(1, server.Connections.Open);
        }
        await server.Connections.WaitForNoneOpenAsync();
        Assert.True(Lingered());
    }

    [Fact]
    public async Task Bytes_sent_after_a_close_request_get_a_lingering_close()
    {
        await using var server = await StartAsync(tls: false);
        using var client = new RawClient(server.Port);
        client.Send("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        var text = client.ReadToEnd();
        Assert.Single(text.Split("HTTP/1.1 200 ")[1..]); // /a answered, /b not
        Assert.Equal(1, server.Connections.Open);
        client.Dispose();
        await server.Connections.WaitForNoneOpenAsync();
        Assert.True(Lingered());
    }
}
