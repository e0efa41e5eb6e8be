using Meanwhile.Http.Server;
using Xunit.Abstractions;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// An asynchronous handler, written the ordinary way (an async lambda, its value task backed by a Task), finishes on the
/// loop with no thread-pool work item: the process's work items are counted across many requests (so no other test runs
/// beside it). Its completion once woke a pool thread per request, which posted the connection back to the loop.
/// </summary>
[Collection(nameof(ProcessAllocationMeasuring))]
public sealed class AsyncHandlerThreadTests(ITestOutputHelper output)
{
    private const int Requests = 400;

    [Fact]
    public async Task An_async_handler_that_suspends_on_the_loop_costs_no_thread_pool_work_item()
    {
        var threads = new HashSet<int>();
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            await EventLoop.Current.Yield();
            lock (threads) threads.Add(Environment.CurrentManagedThreadId);
            response.Write("ok"u8);
        });
        // A blocking client on this thread: it queues no thread-pool work of its own.
        using var client = new RawClient(server.Port);
        long items = PoolWorkItems.Count(() =>
        {
            client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, client.ReadResponses(1)[0].Status);
        }, Requests);
        output.WriteLine($"thread-pool work items for {Requests} requests: {items}");
        Assert.InRange(items, 0, Requests / 10);
        lock (threads) Assert.Single(threads);
    }
}
