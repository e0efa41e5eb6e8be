using System.Collections.Concurrent;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// What a handler on any loop of a server can count on: state of its own loop (the per-loop handler factory), an
/// error that is logged when it throws (even with no logger given), and the request's method, path and query as text.
/// </summary>
public sealed class LoopStateTests
{
    [Fact]
    public async Task Each_loop_of_a_server_gets_its_own_handler_made_on_that_loop_and_disposed_there()
    {
        var made = new ConcurrentBag<LoopCounter>();
        var server = new HttpServer(loop =>
        {
            var counter = new LoopCounter(loop);
            made.Add(counter);
            return counter.HandleAsync;
        }, new HttpServerOptions { Port = 0, Loops = 2 });
        await server.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            // Enough connections that the kernel's SO_REUSEPORT spread reaches both loops.
            for (int i = 0; i < 32; i++)
            {
                using var client = new RawClient(server.Port);
                client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                var (status, _, body) = client.ReadResponses(1)[0];
                Assert.Equal(200, status);
                Assert.Equal("own loop", body);
            }
        }
        finally
        {
            await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Equal(2, made.Count);
        Assert.NotSame(made.First().Loop, made.Last().Loop);
        Assert.Equal(32, made.Sum(counter => counter.Requests));
        Assert.All(made, counter => Assert.True(counter.DisposedOnItsLoop, "the loop's state was not disposed on its loop"));
    }

    [Fact]
    public async Task A_handler_that_throws_is_logged_with_its_request_line_even_with_no_logger_factory()
    {
        var log = new StringWriter();
        var server = new HttpServer((_, _) => throw new FormatException("the price was not a number"),
            new HttpServerOptions { Port = 0, Loops = 1, DefaultLogWriter = TextWriter.Synchronized(log) });
        await server.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            using var client = new RawClient(server.Port);
            client.Send("GET /quote?symbol=ACME HTTP/1.1\r\nHost: x\r\n\r\n");
            string response = client.ReadToEnd();
            Assert.StartsWith("HTTP/1.1 500 ", response, StringComparison.Ordinal);
            Assert.DoesNotContain("price", response, StringComparison.Ordinal); // the client gets a bare 500
        }
        finally
        {
            await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        string logged = log.ToString();
        Assert.Contains("error: The handler threw while answering \"GET /quote?symbol=ACME\"", logged, StringComparison.Ordinal);
        Assert.Contains("System.FormatException: the price was not a number", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_method_path_and_query_are_offered_as_text_the_path_decoded_and_the_query_raw()
    {
        var seen = new ConcurrentQueue<string>();
        var server = new HttpServer((request, response) =>
        {
            bool sameObjects = ReferenceEquals(request.PathText, request.PathText) && ReferenceEquals(request.MethodText, "GET");
            seen.Enqueue($"{request.MethodText}|{request.PathText}|{request.QueryText}|{sameObjects}");
            return ValueTask.CompletedTask;
        }, new HttpServerOptions { Port = 0, Loops = 1 });
        await server.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            using var client = new RawClient(server.Port);
            client.Send("GET /caf%C3%A9/a%20b?q=x%20y&r=1 HTTP/1.1\r\nHost: x\r\n\r\nPURGE /c HTTP/1.1\r\nHost: x\r\n\r\n");
            client.ReadResponses(2);
        }
        finally
        {
            await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Equal(["GET|/café/a b|q=x%20y&r=1|True", "PURGE|/c||False"], seen.ToArray());
    }

    /// <summary>One loop's state: counts that loop's requests, and checks it is only ever touched on that loop.</summary>
    private sealed class LoopCounter(EventLoop loop) : IAsyncDisposable
    {
        public EventLoop Loop { get; } = loop;

        public int Requests { get; private set; }

        public bool DisposedOnItsLoop { get; private set; }

        public ValueTask HandleAsync(ServerRequest request, ServerResponse response)
        {
            Requests++;
            response.Write(Encoding.ASCII.GetBytes(EventLoop.Current == Loop ? "own loop" : "another loop"));
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            DisposedOnItsLoop = EventLoop.CurrentOrNull == Loop;
            return ValueTask.CompletedTask;
        }
    }
}
