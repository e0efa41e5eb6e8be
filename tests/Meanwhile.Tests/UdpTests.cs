using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Meanwhile.Tests;

public class UdpTests
{
    private static readonly IPEndPoint V4 = new(IPAddress.Loopback, 0);
    private static readonly IPEndPoint V6 = new(IPAddress.IPv6Loopback, 0);

    [Fact]
    public void Datagrams_go_both_ways_over_IPv4_and_IPv6_with_their_senders()
    {
        Loops.Run(async loop =>
        {
            foreach (var local in Socket.OSSupportsIPv6 ? new[] { V4, V6 } : [V4])
            {
                await using var server = DatagramSocket.Bind(local);
                await using var client = DatagramSocket.Bind(local);
                Assert.NotEqual(0, server.LocalEndPoint!.Port);
                Assert.Equal(local.AddressFamily, server.AddressFamily);

                await client.SendToAsync("ping"u8.ToArray(), server.LocalEndPoint);
                var buffer = new byte[64];
                var request = await server.ReceiveFromAsync(buffer);
                Assert.Equal("ping", Encoding.ASCII.GetString(buffer, 0, request.Length));
                Assert.False(request.Truncated);
                Assert.Equal(client.LocalEndPoint, request.From);

                await server.SendToAsync("pong"u8.ToArray(), request.From);
                var (length, from, _) = await client.ReceiveFromAsync(buffer);
                Assert.Equal("pong", Encoding.ASCII.GetString(buffer, 0, length));
                Assert.Equal(server.LocalEndPoint, from);
            }
        });
    }

    [Fact]
    public void The_sender_of_a_steady_conversation_is_the_same_endpoint_object_each_time()
    {
        Loops.Run(async loop =>
        {
            await using var server = DatagramSocket.Bind(V4);
            await using var client = DatagramSocket.Bind(V4);
            await using var other = DatagramSocket.Bind(V4);
            var buffer = new byte[16];
            await client.SendToAsync(new byte[1], server.LocalEndPoint!);
            var first = await server.ReceiveFromAsync(buffer);
            await client.SendToAsync(new byte[1], server.LocalEndPoint!);
            var second = await server.ReceiveFromAsync(buffer);
            Assert.Same(first.From, second.From); // no endpoint allocated per datagram
            await other.SendToAsync(new byte[1], server.LocalEndPoint!);
            var third = await server.ReceiveFromAsync(buffer);
            Assert.Equal(other.LocalEndPoint, third.From);
        });
    }

    [Fact]
    public void Connected_mode_sends_and_receives_without_addresses_and_an_IPv6_socket_reaches_IPv4_peers()
    {
        Loops.Run(async loop =>
        {
            await using var server = DatagramSocket.Bind(V4);
            await using var client = DatagramSocket.Open();
            client.Connect(server.LocalEndPoint!);
            Assert.Equal(server.LocalEndPoint, client.RemoteEndPoint);
            Assert.NotNull(client.LocalEndPoint); // connect gave it a port

            await client.SendAsync("hello"u8.ToArray());
            var buffer = new byte[32];
            var request = await server.ReceiveFromAsync(buffer);
            Assert.Equal(client.LocalEndPoint, request.From);
            await server.SendToAsync("world"u8.ToArray(), request.From);
            int n = await client.ReceiveAsync(buffer);
            Assert.Equal("world", Encoding.ASCII.GetString(buffer, 0, n));

            if (!Socket.OSSupportsIPv6) return;
            await using var dual = DatagramSocket.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
            await dual.SendToAsync("v4"u8.ToArray(), server.LocalEndPoint!);
            var mapped = await server.ReceiveFromAsync(buffer);
            Assert.Equal(dual.LocalEndPoint!.Port, mapped.From.Port);
            await server.SendToAsync("back"u8.ToArray(), mapped.From);
            var reply = await dual.ReceiveFromAsync(buffer);
            Assert.Equal(IPAddress.Loopback.MapToIPv6(), reply.From.Address);
        });
    }

    [Fact]
    public void Ten_thousand_numbered_datagrams_come_back_in_order_from_an_echo_on_the_same_loop()
    {
        Loops.Run(async loop =>
        {
            const int count = 10_000, window = 32;
            await using var server = DatagramSocket.Bind(V4);
            await using var client = DatagramSocket.Open();
            client.Connect(server.LocalEndPoint!);
            var echo = loop.Spawn(async () =>
            {
                var buffer = new byte[2048];
                for (int i = 0; i < count; i++)
                {
                    var datagram = await server.ReceiveFromAsync(buffer);
                    await server.SendToAsync(buffer.AsMemory(0, datagram.Length), datagram.From);
                }
            }, "udp echo");

            // A bounded window of datagrams in flight: loopback drops datagrams only when a receive buffer
            // overflows, and 32 small ones never fill it, so every one must come back.
            var random = new Random(5);
            var sent = new byte[2048];
            var received = new byte[2048];
            int next = 0;
            for (int expected = 0; expected < count; expected++)
            {
                while (next < count && next - expected < window)
                {
                    int size = 4 + random.Next(0, 1000);
                    BinaryPrimitives.WriteInt32BigEndian(sent, next);
                    sent.AsSpan(4, size - 4).Fill((byte)next);
                    await client.SendAsync(sent.AsMemory(0, size));
                    next++;
                }
                int n = await client.ReceiveAsync(received);
                Assert.Equal(expected, BinaryPrimitives.ReadInt32BigEndian(received));
                Assert.True(received.AsSpan(4, n - 4).IndexOfAnyExcept((byte)expected) < 0, $"datagram {expected} is corrupt");
            }
            await echo;
        });
    }

    [Fact]
    public void A_datagram_longer_than_the_buffer_is_cut_and_flagged_and_the_next_one_is_whole()
    {
        Loops.Run(async loop =>
        {
            await using var server = DatagramSocket.Bind(V4);
            await using var client = DatagramSocket.Bind(V4);
            var big = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
            await client.SendToAsync(big, server.LocalEndPoint!);
            await client.SendToAsync("next"u8.ToArray(), server.LocalEndPoint!);

            var small = new byte[100];
            var cut = await server.ReceiveFromAsync(small);
            Assert.True(cut.Truncated);
            Assert.Equal(100, cut.Length);
            Assert.Equal(big[..100], small);
            Assert.Equal(client.LocalEndPoint, cut.From);

            var whole = await server.ReceiveFromAsync(small);
            Assert.False(whole.Truncated);
            Assert.Equal("next", Encoding.ASCII.GetString(small, 0, whole.Length));
        });
    }

    [Fact]
    public void An_empty_datagram_is_received_as_zero_bytes_not_as_an_end()
    {
        Loops.Run(async loop =>
        {
            await using var server = DatagramSocket.Bind(V4);
            await using var client = DatagramSocket.Bind(V4);
            await client.SendToAsync(ReadOnlyMemory<byte>.Empty, server.LocalEndPoint!);
            await client.SendToAsync("x"u8.ToArray(), server.LocalEndPoint!);
            var buffer = new byte[8];
            var empty = await server.ReceiveFromAsync(buffer);
            Assert.Equal(0, empty.Length);
            Assert.False(empty.Truncated);
            Assert.Equal(client.LocalEndPoint, empty.From);
            Assert.Equal(1, (await server.ReceiveFromAsync(buffer)).Length);
        });
    }

    [Fact]
    public void A_connected_socket_learns_of_a_closed_port_as_ConnectionRefused()
    {
        Loops.Run(async loop =>
        {
            IPEndPoint closed;
            await using (var gone = DatagramSocket.Bind(V4)) closed = gone.LocalEndPoint!;
            await using var client = DatagramSocket.Open();
            client.Connect(closed);
            await client.SendAsync("anyone?"u8.ToArray());
            // The kernel answers with ICMP port unreachable; a connected socket reports it on its next call.
            var error = await Assert.ThrowsAsync<ConnectionRefusedException>(async () =>
                await loop.WithTimeout(TimeSpan.FromSeconds(10), async token => await client.ReceiveAsync(new byte[16], token)));
            Assert.Equal("ECONNREFUSED", error.ErrorName);
            Assert.Contains(closed.ToString(), error.Message);
        });
    }

    [Fact]
    public void Binding_a_port_in_use_fails_with_AddressInUse()
    {
        Loops.Run(async loop =>
        {
            await using var first = DatagramSocket.Bind(V4);
            var error = Assert.Throws<AddressInUseException>(() => DatagramSocket.Bind(first.LocalEndPoint!));
            Assert.Contains(first.LocalEndPoint!.ToString(), error.Message);
        });
    }

    [Fact]
    public void Misuse_is_reported_clearly_and_close_ends_a_pending_receive()
    {
        Loops.Run(async loop =>
        {
            await using var unbound = DatagramSocket.Open();
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await unbound.ReceiveFromAsync(new byte[8]));
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await unbound.SendAsync(new byte[8]));
            Assert.Throws<ArgumentException>(() => { _ = unbound.SendToAsync(new byte[1], new DnsEndPoint("localhost", 9)); });
            Assert.Throws<ArgumentException>(() => { _ = unbound.SendToAsync(new byte[1], new IPEndPoint(IPAddress.IPv6Loopback, 9)); });

            var socket = DatagramSocket.Bind(V4);
            var receiver = loop.Spawn(async () => await socket.ReceiveFromAsync(new byte[8]), "receiver");
            await loop.Yield();
            await loop.Yield();
            Assert.False(receiver.IsCompleted);
            await socket.DisposeAsync();
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await receiver);
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await socket.SendToAsync(new byte[1], V4));
        });
    }

    [Fact]
    public void A_pending_receive_ends_when_its_task_is_cancelled_and_the_socket_stays_usable()
    {
        Loops.Run(async loop =>
        {
            await using var server = DatagramSocket.Bind(V4);
            await using var client = DatagramSocket.Bind(V4);
            var receiver = loop.Spawn(async () => await server.ReceiveFromAsync(new byte[8]), "receiver");
            await loop.Yield();
            await loop.Yield();
            receiver.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await receiver);
            await client.SendToAsync("ok"u8.ToArray(), server.LocalEndPoint!);
            Assert.Equal(2, (await server.ReceiveFromAsync(new byte[8])).Length);
        });
    }

    [EpollFact]
    public void A_warm_send_and_receive_with_one_peer_allocates_nothing_on_epoll()
    {
        Loops.Run(async loop =>
        {
            await using var server = DatagramSocket.Bind(V4);
            await using var client = DatagramSocket.Bind(V4);
            var to = server.LocalEndPoint!;
            var payload = new byte[64];
            var buffer = new byte[64];
            long before = 0;
            for (int i = -10; i < 1000; i++)
            {
                if (i == 0) before = GC.GetAllocatedBytesForCurrentThread(); // after ten warm-up rounds
                // The datagram is already queued when the receive starts, so both calls complete synchronously.
                await client.SendToAsync(payload, to);
                var received = await server.ReceiveFromAsync(buffer);
                // Not Assert.Equal, which allocates a comparer on each call.
                if (received.Length != 64) throw new InvalidOperationException($"received {received.Length} bytes");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated == 0, $"{allocated} bytes allocated for 1000 datagrams sent and received");
        });
    }
}
