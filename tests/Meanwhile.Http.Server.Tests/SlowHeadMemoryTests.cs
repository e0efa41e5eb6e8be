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
            for (int i = 0; i < Clients; i++)
            {
                var client = Peer.Connect(server.Port);
                clients.Add(client);
                client.Send("GET /slow HTTP/1.1\r\nHost: x\r\nX-Tr"u8);
            }
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
}
