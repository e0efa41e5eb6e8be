using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Meanwhile.Http.Server;
using Xunit.Abstractions;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// Bad input on the TLS port: each case ends in a clear close, and the process's descriptor count returns to where it
/// was. They count the whole process's descriptors, so no other test runs beside them.
/// </summary>
[Collection(nameof(ProcessAllocationMeasuring))]
public sealed class HttpsBadInputTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestCertificates _files = new();
    private readonly BlockingCollection<ConnectionPhase> _phases = new();
    private readonly VirtualClock _clock = new() { AutoAdvance = false };

    public void Dispose() => _files.Dispose();

    private static int Descriptors() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>A server on the virtual clock, warmed up by one good exchange (so lazily opened descriptors are counted in the baseline).</summary>
    private async Task<(TestServer Server, int Baseline)> StartAsync()
    {
        var (crt, key, _) = _files.Server("localhost", "localhost");
        var server = await TestServer.StartAsync(EchoHandler.HandleAsync, new HttpServerOptions
        {
            TimeProvider = _clock,
            PhaseObserver = _phases.Add,
            Https = new HttpsOptions { Certificate = ServerCertificate.LoadPem(crt, key), HandshakeTimeout = TimeSpan.FromSeconds(10) },
        });
        using (var warm = TlsTestClient.Connect(server.Port)) Assert.Equal(200, warm.Get("/").Status);
        await server.Connections.WaitForNoneOpenAsync();
        while (_phases.TryTake(out _)) { } // the warm-up's phases are not the test's
        return (server, Descriptors());
    }

    private async Task AssertNothingLeftAsync(TestServer server, int baseline)
    {
        await server.Connections.WaitForNoneOpenAsync();
        int now = Descriptors();
        output.WriteLine($"descriptors: {baseline} before, {now} after");
        // No socket of this process is still a connection on the server's port. Exact, unlike the process's whole
        // descriptor count, which what other code opens or finalizes meanwhile moves (it once differed by one in CI).
        Assert.Equal(0, OwnSockets.ConnectionsOnLocalPort(server.Port));
    }

    private static Socket Connect(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000 };
        socket.Connect(IPAddress.Loopback, port);
        return socket;
    }

    private static byte[] ReadToEnd(Socket socket)
    {
        var all = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = socket.Receive(buffer)) > 0) all.Write(buffer, 0, n);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { } // a close with unread bytes
        return all.ToArray();
    }

    [Fact]
    public async Task Plain_http_sent_to_the_https_port_gets_a_400_that_says_so()
    {
        var (server, baseline) = await StartAsync();
        await using (server)
        {
            using (var client = new RawClient(server.Port))
            {
                client.Send("GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: plain\r\n\r\n");
                string answer = client.ReadToEnd();
                Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", answer);
                Assert.Contains("Connection: close\r\n", answer);
                Assert.EndsWith("\r\n\r\nThe plain HTTP request was sent to the HTTPS port.\n", answer);
            }
            await AssertNothingLeftAsync(server, baseline);
        }
    }

    [Fact]
    public async Task A_garbage_client_hello_is_closed_without_an_answer_in_http()
    {
        var (server, baseline) = await StartAsync();
        await using (server)
        {
            // A handshake record whose body is no ClientHello, then bytes that are no TLS record at all.
            foreach (var garbage in new[] { new byte[] { 0x16, 0x03, 0x01, 0x00, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, Enumerable.Repeat((byte)0x00, 64).ToArray() })
            {
                using var socket = Connect(server.Port);
                socket.Send(garbage);
                var answer = ReadToEnd(socket); // the server closes (after an alert, at most)
                Assert.DoesNotContain("HTTP/", Encoding.Latin1.GetString(answer));
                Assert.True(answer.Length == 0 || answer[0] == 0x15, $"a TLS alert or nothing, not {Convert.ToHexString(answer)}");
            }
            await AssertNothingLeftAsync(server, baseline);
        }
    }

    [Fact]
    public async Task A_trickling_handshake_is_closed_at_the_handshake_timeout()
    {
        var (server, baseline) = await StartAsync();
        await using (server)
        {
            using var socket = Connect(server.Port);
            socket.Send([0x16, 0x03, 0x01]); // the start of a record header, and no more
            Peer.WaitForPhase(_phases, ConnectionPhase.Handshake);
            _clock.Advance(TimeSpan.FromSeconds(9));
            Assert.Equal(1, server.Connections.Open); // within the timeout: still waiting
            _clock.Advance(TimeSpan.FromSeconds(2));
            Assert.Empty(ReadToEnd(socket));
            socket.Dispose();
            await AssertNothingLeftAsync(server, baseline);
        }
    }

    [Fact]
    public async Task A_client_that_aborts_mid_handshake_leaves_nothing_behind()
    {
        var (server, baseline) = await StartAsync();
        await using (server)
        {
            for (int i = 0; i < 20; i++)
            {
                using var socket = Connect(server.Port);
                socket.Send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]); // a ClientHello cut short
                if (i % 2 == 0) socket.LingerState = new LingerOption(true, 0); // half of them reset, half close
                socket.Close();
            }
            // Every one reaches the server's accept (the warm-up's was the first): without this wait, a connection still in
            // the listen backlog when no connection is open would be accepted during the check, and look left behind.
            await server.Connections.WaitAsync((_, accepted) => accepted >= 1 + 20, "all 20 accepted");
            await AssertNothingLeftAsync(server, baseline);
        }
    }

    [Fact]
    public async Task A_client_that_never_sends_close_notify_is_closed_cleanly()
    {
        var (server, baseline) = await StartAsync();
        await using (server)
        {
            for (int i = 0; i < 10; i++)
            {
                using var client = TlsTestClient.Connect(server.Port); // SslStream's Dispose sends no close_notify
                Assert.Equal(200, client.Get("/").Status);
                if (i % 2 == 0) client.Socket.LingerState = new LingerOption(true, 0);
            }
            await AssertNothingLeftAsync(server, baseline);
        }
    }
}
