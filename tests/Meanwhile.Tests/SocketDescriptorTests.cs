using System.Net;

namespace Meanwhile.Tests;

/// <summary>
/// <see cref="SocketStream.Descriptor"/> and <see cref="SocketStream.WaitWritableAsync"/>: a system call of the caller's
/// own on the socket (sendfile, here a raw send), and the stream's wait for room when it returns EAGAIN.
/// </summary>
public class SocketDescriptorTests
{
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    [Fact]
    public void A_socket_has_its_descriptor_on_epoll_and_none_on_the_portable_reactor_or_once_closed()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var accepting = listener.AcceptAsync();
            var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var accepted = await accepting;
            if (TestReactor.IsPortable)
            {
                Assert.Equal(-1, client.Descriptor);
                var error = Assert.Throws<InvalidOperationException>(() => { _ = client.WaitWritableAsync(); });
                Assert.Contains("has no descriptor", error.Message, StringComparison.Ordinal);
            }
            else
            {
                int fd = client.Descriptor;
                Assert.True(fd >= 0, $"descriptor {fd}");
                Assert.StartsWith("socket:[", new FileInfo($"/proc/self/fd/{fd}").LinkTarget, StringComparison.Ordinal);
            }
            await client.DisposeAsync();
            Assert.Equal(-1, client.Descriptor);
            Assert.Throws<InvalidOperationException>(() => { _ = client.WaitWritableAsync(); });
        });
    }

    [EpollFact]
    public void A_caller_that_fills_the_socket_with_its_own_sends_waits_for_room_and_the_peer_gets_every_byte()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var accepting = listener.AcceptAsync();
            await using var sender = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var receiver = await accepting;
            await FillWaitForRoomAndDrainAsync(loop, sender, receiver);
        });
    }

    [EpollFact]
    public void An_accepted_socket_that_never_waited_to_write_gets_its_room_edge_once_it_waits()
    {
        // An accepted socket is watched for readability only until its first writer waits (nothing else of it ever asked
        // for writability, unlike a connect): the wait must still end when the peer makes room.
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var accepting = listener.AcceptAsync();
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var accepted = await accepting;
            await FillWaitForRoomAndDrainAsync(loop, accepted, client);
        });
    }

    private static async Task FillWaitForRoomAndDrainAsync(EventLoop loop, SocketStream sender, SocketStream receiver)
    {
        var chunk = new byte[64 * 1024];
        for (int i = 0; i < chunk.Length; i++) chunk[i] = (byte)(i % 251);
        long sent = 0;
        ValueTask room;
        int rounds = 0;
        while (true)
        {
            // Readiness is edge-triggered and an edge from before (the connect's) may end the first wait at once:
            // send until EAGAIN again, then wait again, as a caller does.
            while (SendOnce(sender.Descriptor, chunk, sent) is var n && n > 0) sent += n;
            Assert.Equal(Errno.EAGAIN, LinuxNative.LastErrno);
            room = sender.WaitWritableAsync();
            await loop.Yield();
            if (!room.IsCompleted || ++rounds == 3) break;
            await room;
        }
        Assert.False(room.IsCompleted, "the wait ended while the socket was still full");

        // The peer reads everything: the socket has room again, and the wait ends.
        var buffer = new byte[chunk.Length];
        long received = 0;
        while (received < sent)
        {
            int n = await receiver.ReadAsync(buffer);
            Assert.True(n > 0, "the stream ended early");
            for (int i = 0; i < n; i++) Assert.Equal((byte)((received + i) % chunk.Length % 251), buffer[i]);
            received += n;
        }
        await room.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(SendOnce(sender.Descriptor, chunk, sent) > 0);
    }

    [EpollFact]
    public void A_socket_write_ends_with_its_cancellation_and_a_regular_file_write_may_outlive_it()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var accepting = listener.AcceptAsync();
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var accepted = await accepting;
            Assert.False(client.WritesOutliveCancellation);

            using var dir = new TempDir();
            await using var file = await DataStream.OpenFileAsync(Path.Combine(dir.Path, "f"), FileMode.Create, FileAccess.Write);
            Assert.True(file.WritesOutliveCancellation); // a blocking pwrite on a worker thread
        });
    }

    /// <summary>One non-blocking send of the pattern from where the stream is (<paramref name="sent"/>); bytes sent, or -1 with errno.</summary>
    private static unsafe long SendOnce(int fd, byte[] pattern, long sent)
    {
        int from = (int)(sent % pattern.Length);
        fixed (byte* p = pattern) return LinuxNative.send(fd, p + from, pattern.Length - from, LinuxNative.MSG_DONTWAIT | LinuxNative.MSG_NOSIGNAL);
    }
}
