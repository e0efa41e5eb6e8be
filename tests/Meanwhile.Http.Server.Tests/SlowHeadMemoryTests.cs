using System.Net.Sockets;
using System.Text;
using Meanwhile.Http.Server;
using Xunit.Abstractions;

namespace Meanwhile.Http.Server.Tests;

/// <summary>Tests that count the whole process's allocations, so no other test may run beside them.</summary>
[CollectionDefinition(nameof(ProcessAllocationMeasuring), DisableParallelization = true)]
public sealed class ProcessAllocationMeasuring;

[Collection(nameof(ProcessAllocationMeasuring))]
public sealed class SlowHeadMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Clients_trickling_a_head_hold_no_read_buffer()
    {
        // Slowloris holds thousands of connections in the middle of a head. The parser keeps what arrived in its own
        // store (sized to the head), so the 16 KiB read buffer goes back to the pool after each read: renting it again
        // and again costs no allocation, holding one per connection would cost 16 KiB each.
        const int Clients = 300;
        int inHead = 0;
        var allInHead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(Handlers.Hello, new HttpServerOptions
        {
            PhaseObserver = phase =>
            {
                if (phase == ConnectionPhase.Head && ++inHead == Clients) allInHead.TrySetResult();
            },
        });

        var clients = new List<Socket>();
        try
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            ConnectAndSend(clients, server.Port, Clients, "GET /slow HTTP/1.1\r\nHost: x\r\nX-Tr"u8);
            await allInHead.Task.WaitAsync(TimeSpan.FromSeconds(30));
            long perClient = (GC.GetTotalAllocatedBytes(precise: true) - before) / Clients;
            output.WriteLine($"{perClient} B allocated per connection holding a partial head");
            Assert.InRange(perClient, 0, 12 * 1024); // measured 4.2 KB (epoll), 6.1 KB (portable); 20.7 KB when the buffer was held

            // And the head still completes when the rest arrives.
            clients[0].Send("ickle: 1\r\n\r\n"u8);
            var buffer = new byte[1024];
            int n = clients[0].Receive(buffer);
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", Encoding.ASCII.GetString(buffer, 0, n));
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

    [Fact]
    public async Task Requests_waiting_in_an_asynchronous_handler_hold_no_read_buffer()
    {
        // Long polling, or a simulation's ten thousand requests answered after a second: the request is read whole and
        // the handler waits. The head is in the parser's store, so the 16 KiB read buffer goes back to the pool while
        // the handler waits (the disconnect watcher's zero-byte read needs none). Measured as memory held, not
        // allocated: the portable reactor rents buffers for reads it has started before any handler runs.
        const int Clients = 300;
        int waiting = 0;
        var allWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            if (++waiting == Clients) allWaiting.TrySetResult();
            await answer.Task;
            response.Write("done"u8);
        });

        var clients = new List<Socket>();
        try
        {
            long before = GC.GetTotalMemory(forceFullCollection: true);
            ConnectAndSend(clients, server.Port, Clients, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"u8);
            await allWaiting.Task.WaitAsync(TimeSpan.FromSeconds(30));
            long perClient = (GC.GetTotalMemory(forceFullCollection: true) - before) / Clients;
            output.WriteLine($"{perClient} B held per connection waiting in its handler");
            answer.SetResult(); // before the assertion: a failed one must not leave the handlers (and the server's disposal) waiting
            Assert.InRange(perClient, 0, 12 * 1024); // a read buffer held per connection alone is 16 KiB

            // Every request is still answered once its handler goes on.
            var buffer = new byte[1024];
            foreach (var client in clients)
            {
                int n = client.Receive(buffer);
                Assert.StartsWith("HTTP/1.1 200 OK\r\n", Encoding.ASCII.GetString(buffer, 0, n));
            }
        }
        finally
        {
            answer.TrySetResult();
            foreach (var client in clients) client.Dispose();
        }
    }

    /// <summary>Opens <paramref name="count"/> connections to the server, each sending <paramref name="bytes"/>.</summary>
    private static void ConnectAndSend(List<Socket> clients, int port, int count, ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < count; i++)
        {
            var client = Peer.Connect(port);
            clients.Add(client);
            client.Send(bytes);
        }
    }
}
