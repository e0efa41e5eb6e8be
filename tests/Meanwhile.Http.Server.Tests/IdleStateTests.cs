using System.Runtime.CompilerServices;
using Meanwhile.Http.Server;
using Xunit;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// An idle keep-alive connection gives its parser, request and response back to the loop's pool (RequestState), so
/// the next connection with bytes to handle borrows the same objects — and must see nothing of the previous request.
/// </summary>
public class IdleStateTests
{
    [Fact]
    public async Task Idle_connections_lend_their_request_state_and_nothing_leaks_between_them()
    {
        var seen = new List<int>();
        var router = new Router().MapGet("/users/{id}", (request, response) =>
        {
            seen.Add(RuntimeHelpers.GetHashCode(request));
            request.TryGetHeader("X-Who"u8, out var who);
            response.AddHeader("Content-Type", "text/plain");
            response.Write(System.Text.Encoding.Latin1.GetBytes($"{request.GetRouteValue("id")} {System.Text.Encoding.Latin1.GetString(who)} {request.Headers.Count}"));
            return ValueTask.CompletedTask;
        });
        await using var server = await TestServer.StartAsync(router.HandleAsync);
        using var a = new RawClient(server.Port);
        using var b = new RawClient(server.Port);

        a.Send("GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Who: a\r\nX-Extra: 1\r\n\r\n");
        Assert.Equal("1 a 3", a.ReadResponses(1)[0].Body); // a is idle now: its state went back to the pool
        b.Send("GET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("2  1", b.ReadResponses(1)[0].Body); // the same objects, with no header or route value of a's
        a.Send("GET /users/3 HTTP/1.1\r\nHost: x\r\nX-Who: a2\r\n\r\nGET /users/4 HTTP/1.1\r\nHost: x\r\n\r\n");
        var pipelined = a.ReadResponses(2);
        Assert.Equal("3 a2 2", pipelined[0].Body);
        Assert.Equal("4  1", pipelined[1].Body);

        Assert.Equal(4, seen.Count);
        Assert.All(seen, id => Assert.Equal(seen[0], id)); // one request object served both connections in turn
    }

    /// <summary>
    /// After a handler that went asynchronous, the connection lends its state as soon as the response is out, while its
    /// disconnect watcher waits for the client's next request (which then finds the connection as after any request).
    /// </summary>
    [Fact]
    public async Task A_connection_idle_after_an_asynchronous_handler_lends_its_request_state()
    {
        var seen = new List<int>();
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            seen.Add(RuntimeHelpers.GetHashCode(request));
            await EventLoop.Current.Yield();
            await Handlers.Hello(request, response);
        });
        using var a = new RawClient(server.Port);
        using var b = new RawClient(server.Port);

        a.Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("Hello, World!", a.ReadResponses(1)[0].Body); // a is idle, its watcher waiting
        b.Send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("Hello, World!", b.ReadResponses(1)[0].Body);
        a.Send("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("Hello, World!", a.ReadResponses(1)[0].Body);

        Assert.Equal(3, seen.Count);
        Assert.All(seen, id => Assert.Equal(seen[0], id));
    }
}
