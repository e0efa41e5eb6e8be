using System.Net;

namespace Meanwhile.Tests;

/// <summary>What a task waiting on a socket shows in <see cref="EventLoop.GetTasks"/>, on either reactor.</summary>
public class SocketWaitTests
{
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    [Fact]
    public void A_task_waiting_on_a_socket_shows_a_socket_wait_on_either_reactor_and_nothing_once_it_ends()
    {
        Loops.Run(async loop =>
        {
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var acceptor = loop.Spawn(async () => await listener.AcceptAsync(), "acceptor");
            await loop.Yield(); // the acceptor runs up to its first wait
            AssertSocketWait(loop, "acceptor");

            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var accepted = await acceptor;
            var reader = loop.Spawn(async () => await accepted.ReadAsync(new byte[16]), "reader");
            await loop.Yield();
            AssertSocketWait(loop, "reader");

            await client.WriteAsync("x"u8.ToArray());
            Assert.Equal(1, await reader);
            Assert.DoesNotContain(loop.GetTasks(), t => t.Name is "reader" or "acceptor");
            Assert.Equal(WaitKind.None, loop.GetTasks().Single(t => t.Name == "main").WaitingOn.Kind);
        });
    }

    private static void AssertSocketWait(EventLoop loop, string name)
    {
        // Both backends wait on the socket itself: the descriptor (the .NET socket's handle on the portable one) and the direction.
        var task = loop.GetTasks().Single(t => t.Name == name);
        Assert.Equal(WaitKind.Readable, task.WaitingOn.Kind);
        Assert.Contains($"waiting on fd {task.WaitingOn.Detail} readable", task.ToString(), StringComparison.Ordinal);
    }
}
