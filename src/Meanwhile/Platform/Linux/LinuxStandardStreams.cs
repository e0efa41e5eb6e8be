using static Meanwhile.LinuxNative;

namespace Meanwhile;

/// <summary>
/// Standard streams on the epoll path, and their O_NONBLOCK policy.
/// </summary>
/// <remarks>
/// <para>O_NONBLOCK belongs to the open file description, which fds 0, 1 and 2 share with the parent shell, the
/// other processes of a pipeline and anything else that inherited them. A terminal left non-blocking breaks the shell
/// that gets it back (reads fail with EAGAIN). So: regular files and block devices are left alone and served by
/// workers; a pipe, terminal, socket or character device gets O_NONBLOCK only while at least one stream uses it, and
/// its original bit is put back when the last such stream is disposed and, for streams never disposed, at process exit
/// (<see cref="AppDomain.ProcessExit"/>, which .NET also raises on SIGTERM). SIGKILL leaves no chance to restore.</para>
/// <para>fds 0, 1 and 2 are never closed by disposing a stream.</para>
/// </remarks>
internal static class LinuxStandardStreams
{
    private static readonly Lock Gate = new();
    private static readonly int[] Users = new int[3];
    private static readonly int[] OriginalNonBlocking = new int[3];
    private static bool s_exitHooked;

    public static DataStream Open(EventLoop loop, int fd)
    {
        string name = PlatformBackend.StandardStreamNames[fd];
        if (StatDescriptor(fd, out int type, out _) < 0) throw SystemErrors.From("statx", LastErrno, name);
        string description = $"{name} ({LinuxPaths.TypeName(type)})";
        if (type is S_IFREG or S_IFBLK)
        {
            // Reads and writes at the kernel's shared offset: `prog < in > out` and `>> log` behave as for any program.
            return new DataStream(loop, new BlockingDescriptorStream(loop, fd, ownsDescriptor: false, positioned: false,
                closeOnShutdownWrite: false, waitForWriter: false, description));
        }
        Acquire(fd, description);
        try
        {
            return new DataStream(loop, new StandardDescriptorStream(loop, fd, type == S_IFSOCK ? DescriptorKind.Socket : DescriptorKind.Pipe, description));
        }
        catch (SystemCallException e) when (e.ErrorNumber == Errno.EPERM)
        {
            // Not pollable (stdout redirected to /dev/null): blocking, as inherited, on workers.
            Release(fd);
            return new DataStream(loop, new BlockingDescriptorStream(loop, fd, ownsDescriptor: false, positioned: false,
                closeOnShutdownWrite: false, waitForWriter: false, description));
        }
        catch
        {
            Release(fd);
            throw;
        }
    }

    private static void Acquire(int fd, string description)
    {
        lock (Gate)
        {
            if (Users[fd]++ > 0) return;
            int previous = SetNonBlocking(fd, true);
            if (previous < 0)
            {
                Users[fd]--;
                throw SystemErrors.From("fcntl", LastErrno, description);
            }
            OriginalNonBlocking[fd] = previous & O_NONBLOCK;
            if (!s_exitHooked)
            {
                s_exitHooked = true;
                AppDomain.CurrentDomain.ProcessExit += static (_, _) => RestoreAll();
            }
        }
    }

    public static void Release(int fd)
    {
        lock (Gate)
        {
            if (Users[fd] == 0 || --Users[fd] > 0) return;
            Restore(fd);
        }
    }

    private static void RestoreAll()
    {
        lock (Gate)
        {
            for (int fd = 0; fd < Users.Length; fd++)
            {
                if (Users[fd] == 0) continue;
                Users[fd] = 0;
                Restore(fd);
            }
        }
    }

    private static void Restore(int fd)
    {
        // Only our bit goes back; other flags may have been changed by someone else since.
        SetNonBlocking(fd, OriginalNonBlocking[fd] != 0);
    }

    /// <summary>An epoll-watched standard stream: never closes its descriptor, hands O_NONBLOCK back when done.</summary>
    private sealed class StandardDescriptorStream(EventLoop loop, int fd, DescriptorKind kind, string description)
        : PolledDescriptorStream(loop, fd, kind, description, ownsDescriptor: false)
    {
        private readonly int _fd = fd;
        private bool _released;

        public override void ShutdownWrite()
        {
            base.ShutdownWrite(); // deregisters; the descriptor stays open for the rest of the process
            ReleaseOnce();
        }

        public override async ValueTask CloseAsync()
        {
            await base.CloseAsync();
            ReleaseOnce();
        }

        private void ReleaseOnce()
        {
            if (_released) return;
            _released = true;
            Release(_fd);
        }
    }
}
