using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Meanwhile.Tests;

public class TcpStreamTests
{
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    [Fact]
    public void A_client_and_a_server_on_one_loop_talk_over_TCP()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            Assert.NotEqual(0, listener.Port);
            var server = loop.Spawn(async () =>
            {
                await using var connection = await listener.AcceptAsync();
                var buffer = new byte[64];
                int n = await connection.ReadAsync(buffer);
                await connection.WriteAsync(Encoding.ASCII.GetBytes("echo: ").Concat(buffer[..n]).ToArray());
                connection.ShutdownWrite();
                Assert.Equal(0, await connection.ReadAsync(buffer)); // the client half-closed too
            }, "server");

            await using var client = await SocketStream.ConnectAsync("127.0.0.1", listener.Port);
            Assert.Equal(listener.LocalEndPoint, client.RemoteEndPoint);
            await client.WriteAsync("hello"u8.ToArray());
            client.ShutdownWrite();
            var received = await ReadToEndAsync(client);
            Assert.Equal("echo: hello", Encoding.ASCII.GetString(received));
            await server;
        });
    }

    [Fact]
    public void Connecting_by_host_name_and_over_IPv6_works()
    {
        Loops.Run(async loop =>
        {
            await using var v4 = StreamListener.ListenTcp(AnyLoopbackPort);
            var accept4 = loop.Spawn(async () => await v4.AcceptAsync());
            await using var byName = await SocketStream.ConnectAsync("localhost", v4.Port);
            await using var accepted4 = await accept4;

            if (!Socket.OSSupportsIPv6) return;
            await using var v6 = StreamListener.ListenTcp(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            var accept6 = loop.Spawn(async () => await v6.AcceptAsync());
            await using var client6 = await SocketStream.ConnectAsync("::1", v6.Port);
            await using var accepted6 = await accept6;
            Assert.Equal(AddressFamily.InterNetworkV6, client6.RemoteEndPoint!.AddressFamily);
        });
    }

    [Fact]
    public void One_GiB_echoed_both_ways_at_once_in_random_chunks_arrives_intact_over_TCP()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var echo = loop.Spawn(async () =>
            {
                await using var connection = await listener.AcceptAsync();
                await Echo(connection, new Random(1));
            }, "echo server");
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await PumpAndCompare(loop, client, 1L << 30, seed: 2);
            await echo;
        });
    }

    [Fact]
    public void One_GiB_echoed_over_a_Unix_socket_arrives_intact_and_the_socket_file_is_removed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"meanwhile-{Guid.NewGuid():N}.sock");
        Loops.Run(async loop =>
        {
            await using (var listener = StreamListener.ListenUnix(path))
            {
                Assert.True(File.Exists(path));
                var echo = loop.Spawn(async () =>
                {
                    await using var connection = await listener.AcceptAsync();
                    await Echo(connection, new Random(3));
                });
                await using var client = await SocketStream.ConnectUnixAsync(path);
                await PumpAndCompare(loop, client, 1L << 30, seed: 4);
                await echo;
            }
            Assert.False(File.Exists(path));
        });
    }

    [Fact]
    public void Connecting_where_nothing_listens_is_refused_with_a_typed_error()
    {
        Loops.Run(async loop =>
        {
            int port;
            await using (var listener = StreamListener.ListenTcp(AnyLoopbackPort)) port = listener.Port;
            var error = await Assert.ThrowsAsync<ConnectionRefusedException>(() => SocketStream.ConnectAsync("127.0.0.1", port));
            Assert.Equal("ECONNREFUSED", error.ErrorName);
            Assert.Contains($"127.0.0.1:{port}", error.Message);
        });
    }

    [Fact]
    public void Listening_on_a_port_in_use_fails_with_AddressInUse()
    {
        Loops.Run(async loop =>
        {
            await using var first = StreamListener.ListenTcp(AnyLoopbackPort);
            var error = Assert.Throws<AddressInUseException>(() => StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, first.Port)));
            Assert.Equal("EADDRINUSE", error.ErrorName);
            await using var shared1 = StreamListener.ListenTcp(AnyLoopbackPort, new ListenOptions { ReusePort = true });
            await using var shared2 = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, shared1.Port), new ListenOptions { ReusePort = true });
            Assert.Equal(shared1.Port, shared2.Port);
        });
    }

    [Fact]
    public void Unknown_host_names_fail_with_a_name_resolution_error()
    {
        Loops.Run(async loop =>
        {
            var error = await Assert.ThrowsAsync<NameResolutionException>(() => SocketStream.ConnectAsync("no-such-host.invalid", 80));
            Assert.Equal("no-such-host.invalid", error.Host);
        });
    }

    [Fact]
    public void Writing_to_a_peer_that_closed_fails_with_a_typed_error_and_no_signal()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            var accepted = await accept;
            await accepted.DisposeAsync();
            var chunk = new byte[64 * 1024];
            var error = await Assert.ThrowsAnyAsync<SystemCallException>(async () =>
            {
                for (int i = 0; i < 1000; i++) await client.WriteAsync(chunk);
            });
            Assert.True(error is BrokenPipeException or ConnectionResetException, error.ToString());
        });
    }

    [Fact]
    public void Use_after_close_throws_ObjectDisposedException()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var accepted = await accept;
            await client.DisposeAsync();
            await client.DisposeAsync(); // twice is fine
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.ReadAsync(new byte[1]));
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.WriteAsync(new byte[1]));
            await listener.DisposeAsync();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await listener.AcceptAsync());
        });
    }

    [Fact]
    public void A_pending_read_ends_when_its_task_is_cancelled()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var accepted = await accept;
            var reader = loop.Spawn(async () => await accepted.ReadAsync(new byte[16]), "reader");
            await loop.Delay(TimeSpan.FromMilliseconds(20));
            Assert.Equal(WaitKind.Readable, reader.WaitingOn.Kind);
            reader.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader);
            // The stream is still usable after a cancelled read.
            await client.WriteAsync("x"u8.ToArray());
            Assert.Equal(1, await accepted.ReadAsync(new byte[16]));
        });
    }

    [Fact]
    public void Stream_and_pipe_adapters_work_with_the_NET_ecosystem()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var server = loop.Spawn(async () =>
            {
                await using var connection = await listener.AcceptAsync();
                using var reader = new StreamReader(connection.AsStream(), Encoding.UTF8, leaveOpen: true);
                var pipe = connection.AsPipe();
                string? line;
                while ((line = await reader.ReadLineAsync()) is not null)
                {
                    await pipe.Output.WriteAsync(Encoding.UTF8.GetBytes(line.ToUpperInvariant() + "\n"));
                }
                await pipe.Output.CompleteAsync();
            });
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await client.AsStream().WriteAsync(Encoding.UTF8.GetBytes("one\ntwo\nthree\n"));
            client.ShutdownWrite();
            var input = client.AsPipe().Input;
            var all = new MemoryStream();
            await input.CopyToAsync(all);
            Assert.Equal("ONE\nTWO\nTHREE\n", Encoding.UTF8.GetString(all.ToArray()));
            await server;
        });
    }

    [Fact]
    public void A_zero_byte_read_waits_for_data_without_consuming_it()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var accepted = await accept;
            var wait = loop.Spawn(async () => await accepted.ReadAsync(Memory<byte>.Empty));
            await loop.Delay(TimeSpan.FromMilliseconds(10));
            Assert.False(wait.IsCompleted);
            await client.WriteAsync("data"u8.ToArray());
            Assert.Equal(0, await wait);
            var buffer = new byte[8];
            Assert.Equal(4, await accepted.ReadAsync(buffer));
        });
    }

    [Fact]
    public void WaitForDataAsync_says_true_for_data_and_false_once_cancelled_without_an_exception()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var accepted = await accept;
            var loopThread = Environment.CurrentManagedThreadId;
            int thrownOnLoop = 0;
            EventHandler<System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs> count = (_, _) =>
            {
                if (Environment.CurrentManagedThreadId == loopThread) Interlocked.Increment(ref thrownOnLoop);
            };
            AppDomain.CurrentDomain.FirstChanceException += count;
            try
            {
                // The calling task cancelled: the wait ends with false, and the task finishes normally.
                var waiting = loop.Spawn(async () => await accepted.WaitForDataAsync());
                await loop.Delay(TimeSpan.FromMilliseconds(10));
                Assert.False(waiting.IsCompleted);
                waiting.Cancel();
                Assert.False(await waiting);
                Assert.Equal(LoopTaskStatus.RanToCompletion, waiting.Status);

                // The token cancelled.
                using var stop = new CancellationTokenSource();
                var pending = accepted.WaitForDataAsync(stop.Token);
                Assert.False(pending.IsCompleted);
                stop.Cancel();
                Assert.False(await pending);
                Assert.Equal(0, thrownOnLoop);
            }
            finally
            {
                AppDomain.CurrentDomain.FirstChanceException -= count;
            }

            // Data: true, and nothing consumed.
            var wait = accepted.WaitForDataAsync();
            await client.WriteAsync("data"u8.ToArray());
            Assert.True(await wait);
            Assert.True(await accepted.WaitForDataAsync()); // still there
            var buffer = new byte[8];
            Assert.Equal(4, await accepted.ReadAsync(buffer));

            // The end of the stream is there to read too.
            client.ShutdownWrite();
            Assert.True(await accepted.WaitForDataAsync());
            Assert.Equal(0, await accepted.ReadAsync(buffer));
        });
    }

    internal static async Task Echo(DataStream connection, Random random)
    {
        var buffer = new byte[256 * 1024];
        while (true)
        {
            int n = await connection.ReadAsync(buffer.AsMemory(0, random.Next(1, buffer.Length)));
            if (n == 0) break;
            await connection.WriteAsync(buffer.AsMemory(0, n));
        }
        connection.ShutdownWrite();
    }

    /// <summary>Sends <paramref name="total"/> random bytes in random chunks while reading the echo, and compares SHA-256.</summary>
    internal static Task PumpAndCompare(EventLoop loop, DataStream stream, long total, int seed) =>
        PumpAndCompare(loop, stream, stream, total, seed);

    /// <summary>
    /// Writes <paramref name="total"/> random bytes in random chunks to <paramref name="output"/> (then shuts it down)
    /// while reading <paramref name="input"/> to its end, and compares SHA-256 of both sides.
    /// </summary>
    internal static async Task PumpAndCompare(EventLoop loop, DataStream output, DataStream input, long total, int seed)
    {
        var writer = loop.Spawn(async () =>
        {
            var random = new Random(seed);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var chunk = new byte[200 * 1024];
            long sent = 0;
            while (sent < total)
            {
                int size = (int)Math.Min(total - sent, random.Next(1, chunk.Length));
                random.NextBytes(chunk.AsSpan(0, size));
                hash.AppendData(chunk, 0, size);
                await output.WriteAsync(chunk.AsMemory(0, size));
                sent += size;
            }
            output.ShutdownWrite();
            return hash.GetHashAndReset();
        }, "writer");
        var reader = loop.Spawn(async () =>
        {
            var random = new Random(seed + 1000);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[300 * 1024];
            long received = 0;
            while (true)
            {
                int n = await input.ReadAsync(buffer.AsMemory(0, random.Next(1, buffer.Length)));
                if (n == 0) break;
                hash.AppendData(buffer, 0, n);
                received += n;
            }
            Assert.Equal(total, received);
            return hash.GetHashAndReset();
        }, "reader");
        Assert.Equal(Convert.ToHexString(await writer), Convert.ToHexString(await reader));
    }

    internal static async Task<byte[]> ReadToEndAsync(DataStream stream)
    {
        var all = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0) all.Write(buffer, 0, n);
        return all.ToArray();
    }
}

public class TcpCloseTests
{
    [Fact]
    public void Closing_a_stream_under_a_pending_read_ends_the_read_with_ObjectDisposedException()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            var accepted = await accept;
            var reader = loop.Spawn(async () => await accepted.ReadAsync(new byte[16]));
            await loop.Delay(TimeSpan.FromMilliseconds(20));
            await accepted.DisposeAsync();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await reader);
        });
    }
}

public class StreamAllocationTests
{
    [EpollFact]
    public void Reads_and_writes_allocate_nothing_once_warm_whether_ready_or_waiting()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var server = await accept;
            var message = new byte[64];
            var buffer = new byte[64];

            // Ping-pong: every read first waits (the peer has not written yet), so this covers the slow path too.
            async Task RoundTrips(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    await client.WriteAsync(message);
                    int n = await server.ReadAsync(buffer);
                    await server.WriteAsync(buffer.AsMemory(0, n));
                    int m = 0;
                    while (m < n) m += await client.ReadAsync(buffer.AsMemory(m, n - m));
                }
            }

            var echo = loop.Spawn(async () =>
            {
                await RoundTrips(2_000); // warm up: JIT, pooled state machines
                long before = GC.GetAllocatedBytesForCurrentThread();
                await RoundTrips(2_000);
                return GC.GetAllocatedBytesForCurrentThread() - before;
            });
            long allocated = await echo;
            // Measured: 96 bytes in all (a pool growing once). A bound rather than zero, but far below one object per operation.
            Assert.True(allocated < 1_024, $"{allocated} bytes allocated over 8,000 warm reads and writes");
        });
    }
}

public class StreamAdapterTests
{
    [Fact]
    public void The_Stream_adapter_carries_calls_from_other_threads_to_the_loop()
    {
        // Libraries such as SslStream resume their own awaits on the thread pool and call the stream from there.
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var server = await accept;
            var clientStream = client.AsStream();
            var serverStream = server.AsStream();
            var received = await Task.Run(async () =>
            {
                Assert.False(loop.IsLoopThread);
                await clientStream.WriteAsync("from the pool"u8.ToArray());
                var buffer = new byte[13];
                int n = 0;
                while (n < buffer.Length) n += await serverStream.ReadAsync(buffer.AsMemory(n));
                return System.Text.Encoding.ASCII.GetString(buffer, 0, n);
            });
            Assert.Equal("from the pool", received);
        });
    }
}

public class StreamConcurrencyTests
{
    [Fact]
    public void A_second_read_or_write_while_one_is_pending_is_refused()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var server = await accept;
            var first = server.ReadAsync(new byte[8]);
            Assert.False(first.IsCompleted);
            var error = Assert.Throws<InvalidOperationException>(() => { _ = server.ReadAsync(new byte[8]); });
            Assert.Contains("one reader at a time", error.Message);
            await client.WriteAsync("x"u8.ToArray());
            Assert.Equal(1, await first);
            // The zero-byte read is a read too.
            var waiting = server.ReadAsync(Memory<byte>.Empty);
            Assert.ThrowsAny<InvalidOperationException>(() => { _ = server.ReadAsync(new byte[8]); });
            await client.WriteAsync("y"u8.ToArray());
            Assert.Equal(0, await waiting);
            Assert.Equal(1, await server.ReadAsync(new byte[8]));
        });
    }
}
