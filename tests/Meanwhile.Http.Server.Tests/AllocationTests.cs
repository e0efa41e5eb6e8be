using System.Buffers;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using Meanwhile.Http.Server;
using Xunit.Abstractions;

namespace Meanwhile.Http.Server.Tests;

public sealed class AllocationTests(ITestOutputHelper output)
{
    /// <summary>
    /// read → parse → handler → write on a warm keep-alive connection allocates (almost) nothing: the loop thread's
    /// allocation counter is read by the handler itself at two requests far apart.
    /// </summary>
    [EpollFact]
    public async Task A_warm_keep_alive_request_allocates_nothing()
    {
        await using var server = await TestServer.StartAsync(Counted(Handlers.Hello), new HttpServerOptions { ServerHeader = null });
        AssertNothingAllocated(server.Port, "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\n\r\n");
    }

    /// <summary>
    /// A handler that suspends (here on the loop's own yield) and finishes on the loop, in the connection's task: the
    /// connection resumes inline after it, with no post through the synchronization context (which made a delegate per request).
    /// </summary>
    [EpollFact]
    public async Task A_warm_request_to_a_handler_that_suspends_allocates_nothing()
    {
        await using var server = await TestServer.StartAsync(Counted(YieldThenHelloAsync), new HttpServerOptions { ServerHeader = null });
        AssertNothingAllocated(server.Port, "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\n\r\n");
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask YieldThenHelloAsync(ServerRequest request, ServerResponse response)
    {
        await EventLoop.Current.Yield();
        await Handlers.Hello(request, response);
    }

    /// <summary>The cached-file path: openat2, statx, the body read into the response or sent with sendfile, close.</summary>
    [EpollFact]
    public async Task A_warm_static_file_request_allocates_nothing()
    {
        using var site = new StaticSite();
        site.Write("index.html", "Hello, World!");
        site.Write("large.bin", new byte[100 * 1024]);
        var files = new StaticFiles(site.Root);
        foreach (string target in new[] { "/index.html", "/", "/large.bin" })
        {
            await using var server = await TestServer.StartAsync(Counted(files.HandleAsync), new HttpServerOptions { ServerHeader = null });
            AssertNothingAllocated(server.Port, $"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n", warm: 500, measured: 5000);
        }
    }

    private long _before, _after;
    private int _count, _warm, _measured;

    /// <summary>The handler, reading the loop thread's allocation counter at two requests far apart.</summary>
    private RequestHandler Counted(RequestHandler inner) => (request, response) =>
    {
        _count++;
        if (_count == _warm) _before = GC.GetAllocatedBytesForCurrentThread();
        else if (_count == _warm + _measured) _after = GC.GetAllocatedBytesForCurrentThread();
        return inner(request, response);
    };

    /// <summary>Sends <paramref name="request"/> again and again on one keep-alive connection and checks the loop allocated (almost) nothing per request.</summary>
    private void AssertNothingAllocated(int port, string request, int warm = 2000, int measured = 20000)
    {
        (_count, _warm, _measured) = (0, warm, measured);
        using var client = new RawClient(port);
        var bytes = Encoding.ASCII.GetBytes(request);
        int responseLength = -1;
        var buffer = new byte[256 * 1024];
        for (int i = 0; i < warm + measured; i++)
        {
            client.Send(bytes);
            if (responseLength < 0)
            {
                var first = client.ReadResponses(1)[0];
                responseLength = first.Head.Length + 4 + first.Body.Length;
                continue;
            }
            int got = 0;
            while (got < responseLength)
            {
                int n = client.Socket.Receive(buffer, 0, Math.Min(buffer.Length, responseLength - got), System.Net.Sockets.SocketFlags.None);
                if (n == 0) throw new EndOfStreamException("the server closed the connection");
                got += n;
            }
        }
        double perRequest = (double)(_after - _before) / measured;
        output.WriteLine($"{request.Split(' ')[1]}: {perRequest:0.###} bytes allocated per request on the loop thread ({_after - _before} over {measured})");
        // A Debug build compiles async state machines as classes, so each call allocates one; the bound that matters
        // (zero, give or take a rare pool refill) is for optimized builds: dotnet test -c Release.
        bool optimized = typeof(HttpServer).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;
        output.WriteLine(optimized ? "optimized build" : "debug build: async state machines are classes and allocate per call");
        Assert.True(perRequest < (optimized ? 8 : 2048), $"{perRequest:0.###} bytes per request");
    }

    [Fact]
    public void Echo_json_writer_allocates_nothing_into_a_reused_buffer()
    {
        using var parser = new HttpRequestParser();
        parser.Parse(Encoding.Latin1.GetBytes("GET /caf\u00e9 HTTP/1.1\r\nHost: x\r\nX-Q: \"quoted\"\r\n\r\n"), out _, out _);
        var output = new ArrayBufferWriter<byte>(4096);
        EchoJsonWriter.Write(parser.Head, "body"u8, output);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            output.ResetWrittenCount();
            EchoJsonWriter.Write(parser.Head, "body"u8, output);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
