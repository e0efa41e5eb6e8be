using System.Net;
using System.Net.Sockets;
using System.Text;
using Meanwhile.Http.Server;
using Xunit.Abstractions;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// Clients that attack: endless heads, endless bodies, pipelined floods that never read, half-closes and resets in
/// every phase. Each test shows the server bounds what it takes (the figures are asserted and printed), frees the
/// connection, and goes on serving others.
/// </summary>
public sealed class HostileClientTests(ITestOutputHelper output)
{
    private const int Kb = 1024;
    private const int Mb = 1024 * 1024;

    /// <summary>Socket buffers on the client side are pinned to this (setting them stops the kernel's autotuning), so bounds are tight.</summary>
    private const int ClientSocketBuffer = 64 * Kb;

    public static TheoryData<string> HeadShapes => ["one endless field", "endless fields"];

    [Fact]
    public async Task A_wave_of_head_timeouts_closes_every_connection()
    {
        // More connections expire in one heartbeat than it times out per loop turn (64): the rest must follow in the
        // next turns, each with its 408. The clock is virtual and moves once, so one heartbeat has to do it all.
        const int Clients = 300;
        var clock = new VirtualClock { AutoAdvance = false };
        int inHead = 0;
        var allInHead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(Handlers.Hello, new HttpServerOptions
        {
            TimeProvider = clock,
            RequestHeadTimeout = TimeSpan.FromSeconds(10),
            PhaseObserver = phase =>
            {
                if (phase == ConnectionPhase.Head && ++inHead == Clients) allInHead.TrySetResult();
            },
        });
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                var client = Peer.Connect(server.Port);
                clients.Add(client);
                client.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "u8);
            }
            await allInHead.Task.WaitAsync(TimeSpan.FromSeconds(30));
            clock.Advance(TimeSpan.FromSeconds(11));
            await server.Connections.WaitForNoneOpenAsync(TimeSpan.FromSeconds(30));
            foreach (var client in clients)
            {
                client.ReceiveTimeout = 10_000;
                var buffer = new byte[256];
                int n = client.Receive(buffer);
                Assert.StartsWith("HTTP/1.1 408 ", Encoding.ASCII.GetString(buffer, 0, n));
            }
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(HeadShapes))]
    public async Task An_endless_head_gets_431_and_a_close_once_the_limit_is_passed(string shape)
    {
        int handled = 0;
        var limits = new HttpParserLimits { MaxHeaderSectionBytes = 32 * Kb, MaxFieldCount = 10_000 };
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            handled++;
            return ValueTask.CompletedTask;
        }, new HttpServerOptions { Limits = limits });

        using var client = Peer.Connect(server.Port, sendBuffer: ClientSocketBuffer);
        var reading = Peer.ReadUntilClosedAsync(client);
        // 64 MiB of head that never ends, sent as fast as the server takes it.
        int field = 0;
        var sent = new Sender(client, "GET / HTTP/1.1\r\nHost: x\r\n"u8.ToArray(), () => shape == "one endless field"
            ? Encoding.ASCII.GetBytes((field++ == 0 ? "X-Endless: " : "") + new string('a', 16 * Kb))
            : Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 256).Select(_ => $"X-Field-{field++:D8}: {new string('v', 40)}\r\n"))))
            .Run(64 * Mb);
        var (received, ending) = await reading;
        string text = Encoding.Latin1.GetString(received);
        output.WriteLine($"{shape}: the client got {sent.Bytes / Kb} KiB of head in before the server closed ({sent.End}); connection ended by {ending}");

        Assert.StartsWith("HTTP/1.1 431 ", text);
        Assert.Contains("Connection: close", text);
        Assert.Equal(SendEnd.Closed, sent.End); // the server closed: it did not take all 64 MiB, nor leave the client hanging
        // What got in: the limit, one read buffer, the 1 MiB the lingering close discards (so a reset does not destroy
        // the 431), and the two socket buffers. Far from the 64 MiB offered.
        Assert.True(sent.Bytes < 8 * Mb, $"{sent.Bytes} bytes of head were accepted");
        Assert.Equal(0, handled);
        await server.Connections.WaitForNoneOpenAsync();
        Peer.AssertServes(server.Port);
    }

    [Fact]
    public async Task An_endless_chunked_body_meets_backpressure_then_413()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failed = new TaskCompletionSource<(long Read, Exception Error)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var limits = new HttpParserLimits { MaxBodyBytes = 8 * Mb };
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            if (!request.HasBody)
            {
                response.Write("served"u8);
                return;
            }
            await release.Task; // a handler busy elsewhere: it reads nothing of the body meanwhile
            long read = 0;
            var buffer = new byte[64 * Kb];
            try
            {
                int n;
                while ((n = await request.ReadAsync(buffer)) > 0) read += n;
            }
            catch (Exception e)
            {
                failed.TrySetResult((read, e));
                throw; // an HttpParseException: the server answers its status
            }
        }, new HttpServerOptions { Limits = limits });

        using var client = Peer.Connect(server.Port, sendBuffer: ClientSocketBuffer);
        var reading = Peer.ReadUntilClosedAsync(client);
        var chunk = Encoding.ASCII.GetBytes($"4000\r\n{new string('c', 0x4000)}\r\n");
        var head = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray();

        // 1. Nobody reads the body: the client's writes stall once the read buffer and the socket buffers are full.
        var sender = new Sender(client, head, () => chunk);
        var stalled = sender.Run(64 * Mb, stall: TimeSpan.FromSeconds(1));
        output.WriteLine($"handler not reading: the client got {stalled.Bytes / Kb} KiB in, then its writes stalled ({stalled.End})");
        Assert.Equal(SendEnd.Stalled, stalled.End);
        Assert.True(stalled.Bytes < 4 * Mb, $"{stalled.Bytes} bytes accepted while nothing read the body");
        // ... and the server goes on serving everyone else meanwhile.
        Peer.AssertServes(server.Port);

        // 2. The handler reads: the body passes the 8 MiB limit, the handler's read throws, the client gets 413 and a close.
        release.TrySetResult();
        var rest = sender.Run(64 * Mb); // resumes where the stall left it, mid-chunk if need be
        var (read, error) = await failed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var (received, ending) = await reading;
        string text = Encoding.Latin1.GetString(received);
        output.WriteLine($"handler reading: it read {read / Kb} KiB before {error.GetType().Name}; the client sent {(stalled.Bytes + rest.Bytes) / Kb} KiB in all ({rest.End}); ended by {ending}");
        var parse = Assert.IsType<HttpParseException>(error);
        Assert.Equal(413, parse.Error.StatusCode);
        Assert.True(read <= 8 * Mb, $"the handler read {read} bytes past the limit");
        Assert.StartsWith("HTTP/1.1 413 ", text);
        Assert.Contains("Connection: close", text);
        Assert.Equal(SendEnd.Closed, rest.End);
        await server.Connections.WaitForNoneOpenAsync();
        Peer.AssertServes(server.Port);
    }

    [Fact]
    public async Task A_pipelined_flood_that_never_reads_is_bounded_then_dropped()
    {
        const int responseBytes = 64 * Kb;
        var body = new byte[responseBytes];
        int handled = 0;
        var phases = new System.Collections.Concurrent.BlockingCollection<ConnectionPhase>();
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            if (request.Path.SequenceEqual("/other"u8)) response.Write("served"u8);
            else
            {
                handled++;
                response.Write(body);
            }
            return ValueTask.CompletedTask;
        }, new HttpServerOptions { ResponseWriteTimeout = TimeSpan.FromSeconds(1), PhaseObserver = phases.Add });

        using var client = Peer.Connect(server.Port, receiveBuffer: ClientSocketBuffer);
        var batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n", 512)));
        // The client never reads. It sends until the server drops it (a stall of 15 s would mean it never did).
        var flooding = Task.Factory.StartNew(() => new Sender(client, batch, () => batch).Run(256 * Mb), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        // The server stops reading once its responses cannot be flushed, and serves others while it waits.
        Peer.WaitForPhase(phases, ConnectionPhase.Write);
        Peer.AssertServes(server.Port);
        var sent = await flooding.WaitAsync(TimeSpan.FromSeconds(30));
        await server.Connections.WaitForNoneOpenAsync();
        int requestsSent = (int)(sent.Bytes / (batch.Length / 512));
        output.WriteLine($"the client sent {sent.Bytes / Kb} KiB ({requestsSent} requests) before the drop ({sent.End}); the server handled {handled} of them, {handled * (long)responseBytes / Kb} KiB of responses");

        Assert.Equal(SendEnd.Closed, sent.End);
        // Handled requests: what the socket buffers hold (the server's send buffer, at most tcp_wmem's maximum, and the
        // client's pinned receive buffer) in 64 KiB responses, plus the one being flushed. Without backpressure the
        // server would answer every request of a read (~600 per 16 KiB) before writing anything.
        long socketBuffers = Peer.MaxSendBuffer() + 2L * ClientSocketBuffer;
        Assert.True(handled <= socketBuffers / responseBytes + 2, $"{handled} requests handled for {socketBuffers} bytes of socket buffers");
        Assert.True(handled < requestsSent, $"{handled} handled of {requestsSent} sent");
        Peer.AssertServes(server.Port);
    }

    [Fact]
    public async Task Half_a_request_then_a_half_close_is_closed_and_released()
    {
        await using var server = await TestServer.StartAsync(Handlers.Hello);
        using var client = Peer.Connect(server.Port);
        client.Send("GET / HTTP/1.1\r\nHo"u8);
        client.Shutdown(SocketShutdown.Send);
        var (received, ending) = await Peer.ReadUntilClosedAsync(client);
        Assert.Empty(received);
        Assert.Equal("end of stream", ending);
        await server.Connections.WaitForNoneOpenAsync();
        Peer.AssertServes(server.Port);
    }

    [Fact]
    public async Task Half_a_body_then_a_half_close_ends_the_body_read_and_fires_the_token()
    {
        var outcome = new TaskCompletionSource<(Exception Error, bool Aborted)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstBytes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(BodyReader(outcome, firstBytes));
        using var client = Peer.Connect(server.Port);
        client.Send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nsome of the body"u8);
        await firstBytes.Task.WaitAsync(TimeSpan.FromSeconds(10));
        client.Shutdown(SocketShutdown.Send);
        var (error, aborted) = await outcome.Task.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"the body read threw {error.GetType().Name}: {error.Message}");
        Assert.IsType<EndOfStreamException>(error);
        Assert.True(aborted, "request.Aborted fired");
        await server.Connections.WaitForNoneOpenAsync();
        Peer.AssertServes(server.Port);
    }

    [Fact]
    public async Task Half_a_request_then_a_reset_is_released()
    {
        int handled = 0;
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            handled++;
            return Handlers.Hello(request, response);
        });
        var client = Peer.Connect(server.Port);
        client.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Half: ye"u8);
        await server.Connections.WaitAsync((open, _) => open == 1, "the connection accepted");
        Peer.Reset(client);
        await server.Connections.WaitForNoneOpenAsync();
        Assert.Equal(0, handled);
        Peer.AssertServes(server.Port);
    }

    [Fact]
    public async Task A_reset_while_the_handler_reads_the_body_throws_a_typed_error_and_fires_the_token()
    {
        var outcome = new TaskCompletionSource<(Exception Error, bool Aborted)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstBytes = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(BodyReader(outcome, firstBytes));
        var client = Peer.Connect(server.Port);
        client.Send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"u8);
        client.Send(new byte[100 * Kb]);
        await firstBytes.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Peer.Reset(client);
        var (error, aborted) = await outcome.Task.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"the body read threw {error.GetType().Name}: {error.Message}");
        Assert.IsType<ConnectionResetException>(error);
        Assert.True(aborted, "request.Aborted fired");
        await server.Connections.WaitForNoneOpenAsync();
        Peer.AssertServes(server.Port);
    }

    [Fact]
    public async Task A_reset_during_a_streamed_response_fires_the_token_and_releases_the_connection()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var piece = new byte[64 * Kb];
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            if (request.Path.SequenceEqual("/other"u8))
            {
                response.Write("served"u8);
                return;
            }
            request.Aborted.Register(() => aborted.TrySetResult());
            try
            {
                while (true) await response.WriteAsync(piece, request.Aborted); // endless: only the client's leaving ends it
            }
            catch (Exception e)
            {
                ended.TrySetResult(e);
                throw;
            }
        });
        var client = Peer.Connect(server.Port, receiveBuffer: ClientSocketBuffer);
        client.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"u8);
        Peer.ReadAtLeast(client, Mb); // well into the body
        Peer.Reset(client);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var error = await ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"the handler's write ended with {error.GetType().Name}: {error.Message}");
        Assert.True(error is IOException or OperationCanceledException or ObjectDisposedException, error.ToString());
        await server.Connections.WaitForNoneOpenAsync();
        Peer.AssertServes(server.Port);
    }

    [Fact]
    public async Task A_reset_seen_only_by_a_response_write_still_fires_the_token()
    {
        // The request's body is left unread, so nothing watches the socket for the client leaving: the failed write is
        // the only sign. A handler that catches it and goes on waiting must still be cancelled.
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var piece = new byte[64 * Kb];
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            if (!request.HasBody)
            {
                response.Write("served"u8);
                return;
            }
            try
            {
                while (true) await response.WriteAsync(piece);
            }
            catch (IOException)
            {
            }
            try
            {
                await EventLoop.Current.Delay(TimeSpan.FromMinutes(5), request.Aborted);
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult();
            }
        });
        var client = Peer.Connect(server.Port, receiveBuffer: ClientSocketBuffer);
        client.Send("POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nthe start of a body"u8);
        Peer.ReadAtLeast(client, Mb);
        Peer.Reset(client);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await server.Connections.WaitForNoneOpenAsync();
        Peer.AssertServes(server.Port);
    }

    [Fact]
    public async Task A_reset_during_a_static_file_fires_the_token_and_releases_the_connection()
    {
        using var site = new StaticSite();
        site.Write("large.bin", new byte[64 * Mb]);
        site.Write("small.txt", "small");
        var files = new StaticFiles(site.Root);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            if (!request.Path.SequenceEqual("/large.bin"u8))
            {
                await files.HandleAsync(request, response);
                return;
            }
            request.Aborted.Register(() => aborted.TrySetResult());
            try
            {
                await files.HandleAsync(request, response);
                ended.TrySetResult(null);
            }
            catch (Exception e)
            {
                ended.TrySetResult(e);
                throw;
            }
        });
        var client = Peer.Connect(server.Port, receiveBuffer: ClientSocketBuffer);
        client.Send("GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n"u8);
        Peer.ReadAtLeast(client, Mb);
        Peer.Reset(client);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var error = await ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"the file's send ended with {error?.GetType().Name}: {error?.Message}");
        Assert.NotNull(error); // 64 MiB cannot have been sent to a client that read 1 MiB
        await server.Connections.WaitForNoneOpenAsync();
        using var next = new RawClient(server.Port);
        next.Send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        var answer = next.ReadResponses(1)[0];
        Assert.Equal((200, "small"), (answer.Status, answer.Body));
    }

    /// <summary>A handler that reads its body until it fails, reporting the error and whether its token had fired by then.</summary>
    private static RequestHandler BodyReader(TaskCompletionSource<(Exception, bool)> outcome, TaskCompletionSource firstBytes) => async (request, response) =>
    {
        if (!request.HasBody)
        {
            response.Write("served"u8);
            return;
        }
        var buffer = new byte[16 * Kb];
        try
        {
            while (await request.ReadAsync(buffer) > 0) firstBytes.TrySetResult();
            outcome.TrySetException(new InvalidOperationException("the body ended normally"));
        }
        catch (Exception e)
        {
            outcome.TrySetResult((e, request.Aborted.IsCancellationRequested));
            throw;
        }
    };
}

/// <summary>How a <see cref="Sender.Run"/> ended.</summary>
internal enum SendEnd
{
    /// <summary>Everything offered was sent.</summary>
    Everything,
    /// <summary>No progress for the stall time: the peer stopped taking bytes.</summary>
    Stalled,
    /// <summary>The peer closed or reset the connection.</summary>
    Closed,
}

/// <summary>
/// Sends <c>first</c>, then what <c>next</c> gives, counting the bytes the kernel accepted. A run can stop at a stall
/// and a later one resume exactly where it stopped (mid-message), so the byte stream stays well formed.
/// </summary>
internal sealed class Sender(Socket socket, byte[] first, Func<byte[]> next)
{
    private byte[] _data = first;
    private int _offset;

    /// <summary>Bytes sent by every run so far.</summary>
    public long Total { get; private set; }

    /// <summary>
    /// Sends until <paramref name="limit"/> more bytes are out, the peer closes, or (with <paramref name="stall"/>) no
    /// byte is taken for that long: a stall is the absence of progress, which only a deadline can show. Without it, 15 s
    /// without progress fails the test. Returns the bytes this run sent and how it ended.
    /// </summary>
    public (long Bytes, SendEnd End) Run(long limit, TimeSpan? stall = null)
    {
        // Non-blocking sends and a poll for room: exact counts, and a reset is told apart from a stall (a blocking
        // .NET send that was partly done when the reset came reports TimedOut).
        socket.Blocking = false;
        var wait = stall ?? TimeSpan.FromSeconds(15);
        long sent = 0;
        try
        {
            while (sent < limit)
            {
                if (_offset == _data.Length)
                {
                    _data = next();
                    _offset = 0;
                }
                int n = socket.Send(_data, _offset, _data.Length - _offset, SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                {
                    // Writable also when the connection failed: the next send then says how.
                    if (socket.Poll(wait, SelectMode.SelectWrite)) continue;
                    if (stall is null) throw new TimeoutException($"the peer took nothing for {wait.TotalSeconds} s after {sent} bytes");
                    return (sent, SendEnd.Stalled);
                }
                if (error != SocketError.Success) throw new SocketException((int)error);
                _offset += n;
                sent += n;
                Total += n;
            }
            return (sent, SendEnd.Everything);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted)
        {
            return (sent, SendEnd.Closed);
        }
    }
}

/// <summary>The test's side of hostile exchanges: blocking sockets with pinned buffers, counted sends, resets.</summary>
internal static class Peer
{
    public static Socket Connect(int port, int? sendBuffer = null, int? receiveBuffer = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 30_000 };
        // Set before connecting, so the window is negotiated with it.
        if (sendBuffer is int send) socket.SendBufferSize = send;
        if (receiveBuffer is int receive) socket.ReceiveBufferSize = receive;
        socket.Connect(IPAddress.Loopback, port);
        return socket;
    }

    /// <summary>Closes abortively: SO_LINGER with a zero timeout makes close(2) send a reset.</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    /// <summary>Reads (on a thread of its own) until the peer closes; returns the bytes and how it ended.</summary>
    /// <remarks>Polls before each read, so it works on a socket that a <see cref="Sender"/> made non-blocking.</remarks>
    public static Task<(byte[] Received, string Ending)> ReadUntilClosedAsync(Socket socket) => Task.Factory.StartNew(() =>
    {
        var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            if (!socket.Poll(TimeSpan.FromSeconds(60), SelectMode.SelectRead)) throw new TimeoutException($"the peer neither sent nor closed for 60 s after {all.Length} bytes");
            int n = socket.Receive(buffer, 0, buffer.Length, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock) continue;
            if (error == SocketError.ConnectionReset) return (all.ToArray(), "reset");
            if (error != SocketError.Success) throw new SocketException((int)error);
            if (n == 0) return (all.ToArray(), "end of stream");
            all.Write(buffer, 0, n);
        }
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(90));

    /// <summary>Reads and discards at least <paramref name="bytes"/> bytes.</summary>
    public static void ReadAtLeast(Socket socket, long bytes)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        while (total < bytes)
        {
            int n = socket.Receive(buffer);
            if (n == 0) throw new EndOfStreamException($"closed after {total} bytes");
            total += n;
        }
    }

    /// <summary>A fresh client's request is answered: the server is still serving.</summary>
    public static void AssertServes(int port)
    {
        using var other = new RawClient(port);
        other.Send("GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, other.ReadResponses(1)[0].Status);
    }

    public static void WaitForPhase(System.Collections.Concurrent.BlockingCollection<ConnectionPhase> phases, ConnectionPhase phase)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !phases.TryTake(out var seen, left)) throw new TimeoutException($"no connection reached {phase}");
            if (seen == phase) return;
        }
    }

    /// <summary>The largest send buffer TCP autotuning may give a socket (tcp_wmem's maximum), 4 MiB where it cannot be read.</summary>
    public static long MaxSendBuffer()
    {
        try
        {
            return long.Parse(File.ReadAllText("/proc/sys/net/ipv4/tcp_wmem").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[2]);
        }
        catch (IOException)
        {
            return 4 * 1024 * 1024;
        }
    }
}
