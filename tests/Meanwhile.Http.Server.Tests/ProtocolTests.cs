using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>Byte-exact exchanges over raw sockets: pipelining, rejections, errors, shutdown.</summary>
public sealed class ProtocolTests
{
    [Fact]
    public async Task Pipelined_requests_are_answered_in_order_in_one_write()
    {
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync);
        using var client = new RawClient(server.Port);
        var batch = new StringBuilder();
        for (int i = 0; i < 16; i++) batch.Append($"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        batch.Append("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        client.Send(batch.ToString());
        var responses = client.ReadResponses(17);
        for (int i = 0; i < 16; i++) Assert.Contains($"\"target\":\"/{i}\"", responses[i].Body);
        Assert.Contains(Convert.ToBase64String("hello"u8.ToArray()), responses[16].Body);
        Assert.All(responses, r => Assert.Equal(200, r.Status));
        Assert.All(responses, r => Assert.Contains("Date: ", r.Head));
    }

    [Fact]
    public async Task One_read_of_pipelined_requests_gives_one_write()
    {
        // Pipelined requests that arrive in one read leave in one write: the client sees them in one segment.
        await using var server = await TestServer.StartAsync(Handlers.Hello);
        using var client = new RawClient(server.Port);
        client.Send(string.Concat(Enumerable.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 8)));
        var buffer = new byte[65536];
        int total = 0;
        string text = "";
        while (Count(text) < 8)
        {
            int n = client.Socket.Receive(buffer, total, buffer.Length - total, System.Net.Sockets.SocketFlags.None);
            Assert.NotEqual(0, n);
            total += n;
            text = Encoding.ASCII.GetString(buffer, 0, total);
        }
        Assert.Equal(8, Count(text));
        static int Count(string s) => s.Split("Hello, World!").Length - 1;
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400)]
    [InlineData("GET / HTTP/1.1\r\n\r\n", 400)]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501)]
    [InlineData("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505)]
    [InlineData("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501)]
    public async Task Rejected_messages_get_their_status_and_a_close(string request, int status)
    {
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync);
        using var client = new RawClient(server.Port);
        // A valid request first, and a smuggling attempt after: the second must never be answered.
        client.Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n" + request + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
        string all = client.ReadToEnd();
        Assert.Contains("\"target\":\"/first\"", all);
        Assert.Contains($"HTTP/1.1 {status} ", all);
        Assert.Contains("Connection: close", all);
        Assert.DoesNotContain("/smuggled", all);
    }

    [Fact]
    public async Task Limits_give_414_and_431_and_413()
    {
        var limits = new HttpParserLimits { MaxStartLineBytes = 100, MaxHeaderSectionBytes = 200, MaxBodyBytes = 10 };
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync, new HttpServerOptions { Limits = limits });
        (string Request, int Status)[] cases =
        [
            ($"GET /{new string('a', 200)} HTTP/1.1\r\nHost: x\r\n\r\n", 414),
            ($"GET / HTTP/1.1\r\nHost: x\r\nX: {new string('b', 300)}\r\n\r\n", 431),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world", 413),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n", 413),
        ];
        foreach (var (request, status) in cases)
        {
            using var client = new RawClient(server.Port);
            client.Send(request);
            string all = client.ReadToEnd();
            Assert.StartsWith($"HTTP/1.1 {status} ", all);
        }
    }

    [Fact]
    public async Task A_head_cut_short_is_closed_silently()
    {
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync);
        using var client = new RawClient(server.Port);
        client.Send("GET / HTTP/1.1\r\nHo");
        client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        Assert.Equal("", client.ReadToEnd());
    }

    [Fact]
    public async Task Http10_closes_unless_keep_alive_is_asked()
    {
        await using var server = await TestServer.StartAsync(Handlers.Hello);
        using (var client = new RawClient(server.Port))
        {
            client.Send("GET / HTTP/1.0\r\n\r\n");
            string all = client.ReadToEnd();
            Assert.Contains("Connection: close", all);
            Assert.EndsWith("Hello, World!", all);
        }
        using (var client = new RawClient(server.Port))
        {
            client.Send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n");
            var first = client.ReadResponses(1)[0];
            Assert.Contains("Connection: keep-alive", first.Head);
            Assert.EndsWith("Hello, World!", client.ReadToEnd());
        }
    }

    [Fact]
    public async Task A_handler_that_throws_gives_500_and_a_close()
    {
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            response.AddHeader("X-Partial", "yes");
            response.Write("lost"u8);
            if (request.Path.SequenceEqual("/async"u8)) await EventLoop.Current.Yield();
            throw new InvalidOperationException("boom");
        });
        foreach (var path in new[] { "/sync", "/async" })
        {
            using var client = new RawClient(server.Port);
            client.Send($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
            string all = client.ReadToEnd();
            Assert.StartsWith("HTTP/1.1 500 Internal Server Error\r\n", all);
            Assert.Contains("Connection: close", all);
            Assert.DoesNotContain("X-Partial", all);
            Assert.DoesNotContain("lost", all);
            Assert.Single(all.Split("HTTP/1.1").Skip(1));
        }
    }

    [Fact]
    public async Task A_client_that_leaves_cancels_its_handler()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            started.TrySetResult();
            try
            {
                await EventLoop.Current.Delay(TimeSpan.FromMinutes(5), request.Aborted);
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult();
                throw;
            }
        });
        var client = new RawClient(server.Port);
        client.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        client.Dispose();
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Large_streamed_body_arrives_whole()
    {
        // 8 MiB through WriteAsync with a 64 KiB response buffer: sent chunked as it is produced, and the handler
        // waits for the socket whenever the client has not read (backpressure), so memory stays bounded.
        const int pieces = 512;
        var piece = new byte[16384];
        for (int i = 0; i < piece.Length; i++) piece[i] = (byte)('a' + i % 26);
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            for (int i = 0; i < pieces; i++) await response.WriteAsync(piece);
        });
        using var http = new HttpClient();
        var bytes = await http.GetByteArrayAsync($"http://127.0.0.1:{server.Port}/big").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(pieces * piece.Length, bytes.Length);
        Assert.Equal(piece, bytes.AsSpan(0, piece.Length).ToArray());
    }

    [Fact]
    public async Task Unread_bodies_are_drained_and_the_connection_kept()
    {
        await using var server = await TestServer.StartAsync(Handlers.Hello);
        using var client = new RawClient(server.Port);
        client.Send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloPOST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n");
        var responses = client.ReadResponses(3);
        Assert.All(responses, r => Assert.Equal("Hello, World!", r.Body));
        Assert.DoesNotContain("Connection: close", responses[0].Head);
    }
}
