using System.Buffers;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using Meanwhile.Http.Server;
using Xunit.Abstractions;

namespace Meanwhile.Http.Server.Tests;

/// <summary>A fact for the epoll reactor (the portable one allocates in .NET's socket engine).</summary>
public sealed class EpollFactAttribute : FactAttribute
{
    public EpollFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "needs Linux (epoll)";
        else if (string.Equals(Environment.GetEnvironmentVariable("MEANWHILE_REACTOR"), "portable", StringComparison.OrdinalIgnoreCase))
            Skip = "the suite runs on the portable reactor; the allocation-free path is the epoll one";
    }
}

public sealed class AllocationTests(ITestOutputHelper output)
{
    /// <summary>
    /// read → parse → handler → write on a warm keep-alive connection allocates (almost) nothing: the loop thread's
    /// allocation counter is read by the handler itself at two requests far apart.
    /// </summary>
    [EpollFact]
    public async Task A_warm_keep_alive_request_allocates_nothing()
    {
        const int warm = 2000, measured = 20000;
        int count = 0;
        long before = 0, after = 0;
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            count++;
            if (count == warm) before = GC.GetAllocatedBytesForCurrentThread();
            else if (count == warm + measured) after = GC.GetAllocatedBytesForCurrentThread();
            return Handlers.Hello(request, response);
        }, new HttpServerOptions { ServerHeader = null });
        using var client = new RawClient(server.Port);
        var request = Encoding.ASCII.GetBytes("GET /plaintext HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\n\r\n");
        int responseLength = -1;
        var buffer = new byte[4096];
        for (int i = 0; i < warm + measured; i++)
        {
            client.Send(request);
            if (responseLength < 0)
            {
                var first = client.ReadResponses(1)[0];
                responseLength = first.Head.Length + 4 + first.Body.Length;
                continue;
            }
            int got = 0;
            while (got < responseLength)
            {
                int n = client.Socket.Receive(buffer, got, responseLength - got, System.Net.Sockets.SocketFlags.None);
                if (n == 0) throw new EndOfStreamException("the server closed the connection");
                got += n;
            }
        }
        double perRequest = (double)(after - before) / measured;
        output.WriteLine($"{perRequest:0.###} bytes allocated per request on the loop thread ({after - before} over {measured})");
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
