using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// Tests that check a port refuses connections once its server stopped. They run alone: a child process that a test
/// beside them forks (curl, nginx, a server process) holds a copy of every listening socket of this process from its
/// fork until its exec closes them (they are close-on-exec), and a connection made in that window succeeds. CI saw it
/// once on the portable reactor.
/// </summary>
[CollectionDefinition(nameof(PortClosing), DisableParallelization = true)]
public sealed class PortClosing;

/// <summary>The graceful shutdown: requests in flight finish, then the listener is closed.</summary>
[Collection(nameof(PortClosing))]
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task Graceful_shutdown_finishes_requests_in_flight()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int running = 0;
        var server = await TestServer.StartAsync(async (request, response) =>
        {
            if (++running == 2) started.TrySetResult(); // both requests in flight
            await release.Task; // resumes on the loop (its synchronization context)
            response.Write("finished"u8);
        }, new HttpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(20) });
        using var busy = new RawClient(server.Port);
        using var idle = new RawClient(server.Port);
        idle.Send("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n");
        busy.Send("GET /work HTTP/1.1\r\nHost: x\r\n\r\n");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var stopping = server.Server.StopAsync();
        release.TrySetResult();
        string busyText = busy.ReadToEnd();
        Assert.Contains("Connection: close", busyText);
        Assert.EndsWith("finished", busyText);
        Assert.EndsWith("finished", idle.ReadToEnd());
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Throws<System.Net.Sockets.SocketException>(() => new RawClient(server.Port)); // the listener is closed
        await server.DisposeAsync();
    }
}
