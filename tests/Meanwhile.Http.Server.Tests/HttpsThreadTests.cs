using System.Net.Sockets;
using System.Text;
using Meanwhile.Http.Server;
using Xunit.Abstractions;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// TLS records are decrypted and encrypted on the loop thread, with no thread-pool hop per record, and handshakes run
/// there too: the process's thread-pool work items are counted across many requests and handshakes (so no other test
/// runs beside it).
/// </summary>
[Collection(nameof(ProcessAllocationMeasuring))]
public sealed class HttpsThreadTests(ITestOutputHelper output)
{
    private const int Requests = 400;

    [Fact]
    public async Task Https_requests_cost_no_more_thread_pool_work_items_than_plain_ones_and_run_on_the_loop_thread()
    {
        using var files = new TestCertificates();
        var (crt, key, _) = files.Server("localhost", "localhost");
        var threads = new HashSet<int>();
        RequestHandler handler = (request, response) =>
        {
            lock (threads) threads.Add(Environment.CurrentManagedThreadId);
            response.Write("ok"u8);
            return ValueTask.CompletedTask;
        };
        await using var plain = await TestServer.StartAsync(handler);
        await using var https = await TestServer.StartAsync(handler, new HttpServerOptions { Https = new HttpsOptions { Certificate = ServerCertificate.LoadPem(crt, key) } });

        // Blocking clients on this thread: they queue no thread-pool work of their own.
        using var raw = new RawClient(plain.Port);
        using var tls = TlsTestClient.Connect(https.Port);
        long plainItems = PoolWorkItems.Count(() => { raw.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"); Assert.Equal(200, raw.ReadResponses(1)[0].Status); }, Requests);
        lock (threads) threads.Clear();
        long tlsItems = PoolWorkItems.Count(() => Assert.Equal(200, tls.Get("/").Status), Requests);
        output.WriteLine($"thread-pool work items for {Requests} requests: plain {plainItems}, https {tlsItems}");
        // One hop per record would be at least two per request (the request's record in, the response's out).
        Assert.InRange(tlsItems - plainItems, long.MinValue, Requests / 10);
        lock (threads) Assert.Single(threads); // every https request ran on the one loop thread
    }

    [Fact]
    public async Task Tls_handshakes_run_on_the_loop_thread_with_no_thread_pool_work_items()
    {
        using var files = new TestCertificates();
        var (crt, key, _) = files.Server("localhost", "localhost");
        await using var https = await TestServer.StartAsync(
            (request, response) => { response.Write("ok"u8); return ValueTask.CompletedTask; },
            new HttpServerOptions { Https = new HttpsOptions { Certificate = ServerCertificate.LoadPem(crt, key) } });

        // A handshake's reads once resumed SslStream off the loop (a task-backed await inside SslStream), and the rest of
        // the handshake ran on the pool, coming back to the loop for each read and write: several items per handshake.
        const int Handshakes = 100;
        long items = PoolWorkItems.Count(() =>
        {
            using var tls = TlsTestClient.Connect(https.Port);
            Assert.Equal(200, tls.Get("/").Status);
        }, Handshakes);
        output.WriteLine($"thread-pool work items for {Handshakes} handshakes: {items}");
        // The hop this guards against cost about 3 items per handshake (289 per 100). A few items remain whose number
        // grows with the machine's load (4-6 quiet, 14-15 at load 11): the bound is below one per handshake, not ~0.
        Assert.InRange(items, 0, Handshakes / 2);
    }
}
