using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// However an asynchronous handler finishes (on the loop in the connection's task, as a Task, or on a thread-pool
/// thread), the connection carries on on its loop: every request of a keep-alive connection is answered, and every
/// handler call runs on the loop thread.
/// </summary>
public sealed class HandlerResumptionTests
{
    public enum HandlerKind
    {
        PooledValueTaskSuspendedOnTheLoop,
        TaskSuspendedOnTheLoop,
        FinishedOnAThreadPoolThread,
    }

    [Theory]
    [InlineData(HandlerKind.PooledValueTaskSuspendedOnTheLoop)]
    [InlineData(HandlerKind.TaskSuspendedOnTheLoop)]
    [InlineData(HandlerKind.FinishedOnAThreadPoolThread)]
    public async Task The_connection_goes_on_on_its_loop_after_an_asynchronous_handler(HandlerKind kind)
    {
        var threads = new ConcurrentBag<int>();
        RequestHandler handler = (request, response) =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            return kind switch
            {
                HandlerKind.PooledValueTaskSuspendedOnTheLoop => YieldThenHelloAsync(request, response),
                HandlerKind.TaskSuspendedOnTheLoop => new ValueTask(YieldThenHelloTaskAsync(request, response)),
                _ => HelloThenLeaveTheLoopAsync(request, response),
            };
        };
        await using var server = await TestServer.StartAsync(handler);
        using var client = new RawClient(server.Port);
        for (int i = 0; i < 5; i++)
        {
            client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            var (status, _, body) = client.ReadResponses(1)[0];
            Assert.Equal(200, status);
            Assert.Equal("Hello, World!", body);
        }
        // Two requests pipelined in one write: the second is read while (or after) the first one's handler finishes.
        client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.All(client.ReadResponses(2), r => Assert.Equal("Hello, World!", r.Body));
        Assert.Single(threads.Distinct());
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask YieldThenHelloAsync(ServerRequest request, ServerResponse response)
    {
        await EventLoop.Current.Yield();
        await Handlers.Hello(request, response);
    }

    private static async Task YieldThenHelloTaskAsync(ServerRequest request, ServerResponse response)
    {
        await EventLoop.Current.Yield();
        await Handlers.Hello(request, response);
    }

    private static async ValueTask HelloThenLeaveTheLoopAsync(ServerRequest request, ServerResponse response)
    {
        await Handlers.Hello(request, response);
        await Task.Run(() => { }).ConfigureAwait(false);
    }
}
