using System.Diagnostics;

namespace Meanwhile.Tests;

public class ReactorTests
{
    [Fact]
    public void The_reactor_is_the_one_asked_for()
    {
        var expected = TestReactor.IsPortable ? "portable" : "epoll";
        Loops.Run(loop => { Assert.Equal(expected, loop.ReactorName); return Task.CompletedTask; });
        Loops.Run(loop => { Assert.Equal("portable", loop.ReactorName); return Task.CompletedTask; }, new EventLoopOptions { Reactor = ReactorKind.Portable });
    }


    [Fact]
    public void Portable_loops_block_until_posted_to()
    {
        Loops.Run(async loop =>
        {
            var posted = new TaskCompletionSource();
            _ = Task.Run(async () => { await Task.Delay(20); loop.Post(posted.SetResult); });
            await posted.Task;
        }, new EventLoopOptions { Reactor = ReactorKind.Portable });
    }

    [Fact]
    public void Registering_a_descriptor_needs_the_epoll_reactor()
    {
        Loops.Run(loop =>
        {
            Assert.False(loop.SupportsDescriptors);
            Assert.Throws<PlatformNotSupportedException>(() => loop.Register(0));
            return Task.CompletedTask;
        }, new EventLoopOptions { Reactor = ReactorKind.Portable });
    }

    [EpollFact]
    public void A_task_waiting_for_a_pipe_wakes_when_another_thread_writes()
    {
        var (readEnd, writeEnd) = Pipe();
        try
        {
            Loops.Run(async loop =>
            {
                using var readable = loop.Register(readEnd);
                var reader = loop.Spawn(async () =>
                {
                    var received = new List<byte>();
                    var buffer = new byte[64];
                    while (true)
                    {
                        nint n = Read(readEnd, buffer);
                        if (n > 0) { received.AddRange(buffer.AsSpan(0, (int)n).ToArray()); continue; }
                        if (n == 0) return received.ToArray(); // end of stream
                        Assert.Equal(Errno.EAGAIN, LinuxNative.LastErrno);
                        await readable.WaitReadableAsync(); // edge-triggered: only after EAGAIN
                    }
                }, "pipe reader");
                await loop.Yield();
                Assert.Equal(WaitKind.Readable, reader.WaitingOn.Kind);
                Assert.Equal(readEnd, reader.WaitingOn.Detail);

                _ = Task.Run(async () =>
                {
                    foreach (var chunk in new[] { "hello ", "from ", "another thread" })
                    {
                        var bytes = System.Text.Encoding.ASCII.GetBytes(chunk);
                        Assert.Equal(bytes.Length, (int)Write(writeEnd, bytes));
                        await Task.Delay(10);
                    }
                    LinuxNative.close(writeEnd);
                    writeEnd = -1;
                });
                var data = await reader;
                Assert.Equal("hello from another thread", System.Text.Encoding.ASCII.GetString(data));
            });
        }
        finally
        {
            LinuxNative.close(readEnd);
            if (writeEnd >= 0) LinuxNative.close(writeEnd);
        }
    }

    [EpollFact]
    public void Deregistering_ends_a_pending_wait_and_cancellation_ends_it_too()
    {
        var (readEnd, writeEnd) = Pipe();
        try
        {
            Loops.Run(async loop =>
            {
                var registration = loop.Register(readEnd);
                using var cts = new CancellationTokenSource();
                var waiting = registration.WaitReadableAsync(cts.Token).AsTask();
                await loop.Yield();
                cts.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

                var orphan = registration.WaitReadableAsync().AsTask();
                await loop.Yield();
                registration.Dispose();
                await Assert.ThrowsAsync<ObjectDisposedException>(() => orphan);
                Assert.Throws<ObjectDisposedException>(() => { _ = registration.WaitReadableAsync(); });

                // The write end of an empty pipe is writable at once (the state the first wait's EPOLL_CTL_MOD reports).
                using var writable = loop.Register(writeEnd);
                await writable.WaitWritableAsync();
            });
        }
        finally
        {
            LinuxNative.close(readEnd);
            LinuxNative.close(writeEnd);
        }
    }

    [EpollFact]
    public void A_descriptor_that_became_writable_before_anyone_waited_ends_the_first_writability_wait()
    {
        // Writability is watched from the first wait on (EPOLL_CTL_MOD), and the MOD reports a descriptor that is
        // writable already: the state from before the wait is not lost although no edge will come for it.
        var (readEnd, writeEnd) = Pipe();
        try
        {
            Loops.Run(async loop =>
            {
                using var writable = loop.Register(writeEnd);
                await loop.Delay(TimeSpan.FromMilliseconds(20)); // the loop polls while nobody waits
                // No further edge will come (nothing is written): only the state the MOD reports can end this wait.
                await loop.WithTimeout(TimeSpan.FromSeconds(5), async _ => await writable.WaitWritableAsync());
            });
        }
        finally
        {
            LinuxNative.close(readEnd);
            LinuxNative.close(writeEnd);
        }
    }

    [EpollFact]
    public void Registering_a_regular_file_fails_with_a_typed_error()
    {
        var path = Path.GetTempFileName();
        try
        {
            using var file = File.OpenHandle(path);
            Loops.Run(loop =>
            {
                var error = Assert.Throws<SystemCallException>(() => loop.Register((int)file.DangerousGetHandle()));
                Assert.Equal("EPERM", error.ErrorName);
                Assert.Contains("epoll_ctl", error.Message);
                return Task.CompletedTask;
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static unsafe nint Read(int fd, byte[] buffer)
    {
        fixed (byte* p = buffer) return LinuxNative.read(fd, p, buffer.Length);
    }

    private static unsafe nint Write(int fd, byte[] bytes)
    {
        fixed (byte* p = bytes) return LinuxNative.write(fd, p, bytes.Length);
    }

    private static unsafe (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, LinuxNative.pipe2(fds, LinuxNative.O_NONBLOCK | LinuxNative.O_CLOEXEC));
        return (fds[0], fds[1]);
    }
}
