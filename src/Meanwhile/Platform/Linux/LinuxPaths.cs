using static Meanwhile.LinuxNative;

namespace Meanwhile;

/// <summary>
/// Opening paths, pipes and standard streams on Linux, and choosing each descriptor's lane: pollable ones (pipes,
/// FIFOs, terminals, most character devices, sockets) go through epoll with O_NONBLOCK; regular files, block
/// devices and character devices epoll refuses (EPERM) go to worker threads; on the portable reactor, which
/// watches no descriptors, everything goes to workers.
/// </summary>
internal static class LinuxPaths
{
    private const int CreateMode = 0x1B6; // 0666, narrowed by the umask as usual

    /// <summary>What the worker learned opening a path.</summary>
    private readonly record struct Opened(int Fd, int Type, bool NoReaderYet);

    /// <summary>
    /// open(2) with O_NONBLOCK (so a FIFO never blocks a worker waiting for its other end), O_CLOEXEC and
    /// O_NOCTTY, then fstat of the descriptor itself (not of the path, which may have changed in between).
    /// </summary>
    private static Opened OpenAndStat(string path, int flags)
    {
        int fd;
        while ((fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, CreateMode)) < 0 && LastErrno == Errno.EINTR) { }
        if (fd < 0)
        {
            int errno = LastErrno;
            if (errno == Errno.ENXIO && StatPath(path, out int pathType, out _) == 0)
            {
                // A FIFO opened for writing without O_RDWR says ENXIO while nobody reads it: the caller waits and retries.
                if (pathType == S_IFIFO) return new Opened(-1, S_IFIFO, NoReaderYet: true);
                if (pathType == S_IFSOCK)
                    throw new SystemCallException("open", errno, $"{path} (a Unix domain socket: connect with SocketStream.ConnectUnixAsync)");
            }
            throw SystemErrors.From("open", errno, path);
        }
        return Stat(fd, path);
    }

    /// <summary>The type of a descriptor just opened; directories are refused (closed, EISDIR).</summary>
    private static Opened Stat(int fd, string path)
    {
        if (StatDescriptor(fd, out int type, out _) < 0)
        {
            int errno = LastErrno;
            close(fd);
            throw SystemErrors.From("statx", errno, path);
        }
        if (type == S_IFDIR)
        {
            close(fd);
            throw SystemErrors.From("open", Errno.EISDIR, $"{path} (a directory, not a stream)");
        }
        return new Opened(fd, type, false);
    }

    /// <summary>
    /// Opens <paramref name="relative"/> below <paramref name="directory"/> for reading, in one system call that resolves
    /// every component, links included, without ever leaving the directory: openat2 with RESOLVE_BENEATH (so no
    /// check-then-open race for someone swapping a component for a link in between). Before Linux 5.6 (ENOSYS) the
    /// file is opened normally and the path the kernel gives for the open descriptor must lie below the directory's.
    /// </summary>
    private static Opened OpenBeneathAndStat(string directory, string relative, string path)
    {
        const int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
        int dirfd;
        while ((dirfd = open(directory, O_PATH | O_CLOEXEC, 0)) < 0 && LastErrno == Errno.EINTR) { }
        if (dirfd < 0) throw SystemErrors.From("open", LastErrno, directory);
        try
        {
            int fd;
            int errno = Errno.ENOSYS;
            if (!WithoutOpenat2)
            {
                while ((fd = openat2(dirfd, relative, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)) < 0 && LastErrno is Errno.EINTR or Errno.EAGAIN) { }
                if (fd >= 0) return Stat(fd, path);
                errno = LastErrno;
            }
            if (errno == Errno.EXDEV) throw new PathOutsideDirectoryException("openat2", errno, $"{relative} below {directory}");
            if (errno != Errno.ENOSYS) throw SystemErrors.From("openat2", errno, path);

            while ((fd = open(path, flags, 0)) < 0 && LastErrno == Errno.EINTR) { }
            if (fd < 0) throw SystemErrors.From("open", LastErrno, path);
            string? below = DescriptorPath(dirfd);
            string? opened = DescriptorPath(fd);
            if (below is null || opened is null || !opened.StartsWith(below == "/" ? "/" : below + "/", StringComparison.Ordinal))
            {
                close(fd);
                throw new PathOutsideDirectoryException("open", Errno.EXDEV, $"{relative} below {directory} (opened {opened ?? "an unknown path"})");
            }
            return Stat(fd, path);
        }
        finally
        {
            close(dirfd);
        }
    }

    /// <summary>Test hook: behave as on a kernel without openat2 (before Linux 5.6), to exercise the fallback.</summary>
    internal static bool WithoutOpenat2 { get; set; }

    /// <summary>Opens a regular file (or block device) below a directory for reading, never leaving it; see <see cref="OpenBeneathAndStat"/>.</summary>
    public static async Task<FileDataStream> OpenFileBeneathAsync(EventLoop loop, string directory, string relative, CancellationToken cancellationToken)
    {
        string path = Path.Join(directory, relative);
        var opened = await OpenOnWorker(loop, () => OpenBeneathAndStat(directory, relative, path), cancellationToken);
        if (opened.Type != S_IFREG && opened.Type != S_IFBLK)
        {
            close(opened.Fd);
            throw new InvalidOperationException($"{path} is {TypeName(opened.Type)}, not a regular file; open it with DataStream.OpenAsync.");
        }
        return NewFile(loop, opened.Fd, path, append: false);
    }

    private static int AccessFlags(FileAccess access) => access switch
    {
        FileAccess.Read => O_RDONLY,
        FileAccess.Write => O_WRONLY,
        FileAccess.ReadWrite => O_RDWR,
        _ => throw new ArgumentOutOfRangeException(nameof(access)),
    };

    /// <summary>Opens a regular file (or block device) for <see cref="FileDataStream"/>.</summary>
    public static async Task<FileDataStream> OpenFileAsync(EventLoop loop, string path, FileMode mode, FileAccess access, CancellationToken cancellationToken)
    {
        int flags = AccessFlags(access) | mode switch
        {
            FileMode.CreateNew => O_CREAT | O_EXCL,
            FileMode.Create => O_CREAT | O_TRUNC,
            FileMode.Open => 0,
            FileMode.OpenOrCreate => O_CREAT,
            FileMode.Truncate => O_TRUNC,
            FileMode.Append => O_CREAT | O_APPEND,
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
        if ((mode is FileMode.Truncate or FileMode.Append or FileMode.Create or FileMode.CreateNew) && access == FileAccess.Read)
            throw new ArgumentException($"FileMode.{mode} needs write access.", nameof(access));
        var opened = await OpenOnWorker(loop, path, flags, cancellationToken);
        if (opened.NoReaderYet || (opened.Type != S_IFREG && opened.Type != S_IFBLK))
        {
            if (opened.Fd >= 0) close(opened.Fd);
            throw new InvalidOperationException($"{path} is {TypeName(opened.Type)}, not a regular file; open it with DataStream.OpenAsync.");
        }
        return NewFile(loop, opened.Fd, path, append: mode == FileMode.Append);
    }

    private static FileDataStream NewFile(EventLoop loop, int fd, string path, bool append)
    {
        SetNonBlocking(fd, false); // meaningless for regular files; cleared so nothing inherits a surprise
        // O_APPEND: Linux's pwrite ignores the offset and appends anyway, so appends use write(2) at the kernel's offset.
        var file = new BlockingDescriptorStream(loop, fd, ownsDescriptor: true, positioned: !append, closeOnShutdownWrite: false,
            waitForWriter: false, description: $"file {path}");
        return new FileDataStream(loop, file, file, path);
    }

    /// <summary>Opens any path as a stream: a regular file, a FIFO, a character device.</summary>
    public static async Task<DataStream> OpenAsync(EventLoop loop, string path, FileAccess access, CancellationToken cancellationToken)
    {
        int flags = AccessFlags(access);
        var delay = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            var opened = await OpenOnWorker(loop, path, flags, cancellationToken);
            if (opened.NoReaderYet)
            {
                // Nobody reads the FIFO yet. Blocking in open(2) on a worker could not be cancelled, so retry on the
                // loop's timers with a backoff capped at 50 ms: cancellable, and cheap while waiting.
                await loop.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(50).Ticks));
                continue;
            }
            if (opened.Type is S_IFREG or S_IFBLK) return NewFile(loop, opened.Fd, path, append: false);
            string description = $"{(opened.Type == S_IFIFO ? "fifo" : TypeName(opened.Type))} {path}";
            try
            {
                return new DataStream(loop, Adopt(loop, opened.Fd, opened.Type, ownsDescriptor: true,
                    fifoReader: opened.Type == S_IFIFO && access == FileAccess.Read, description));
            }
            catch
            {
                close(opened.Fd);
                throw;
            }
        }
    }

    private static Task<Opened> OpenOnWorker(EventLoop loop, string path, int flags, CancellationToken cancellationToken) =>
        OpenOnWorker(loop, () => OpenAndStat(path, flags), cancellationToken);

    private static async Task<Opened> OpenOnWorker(EventLoop loop, Func<Opened> open, CancellationToken cancellationToken)
    {
        var work = loop.RunOnWorker(open, cancellationToken);
        try
        {
            return await work;
        }
        catch (OperationCanceledException)
        {
            // The open may still finish on its worker: close what it opens so nothing leaks.
            _ = work.ContinueWith(static t => { if (t.IsCompletedSuccessfully && t.Result.Fd >= 0) close(t.Result.Fd); },
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>
    /// Picks the lane for an open non-blocking descriptor that is not a regular file. On epoll it is registered;
    /// EPERM from epoll_ctl means the device does not support polling (/dev/null, /dev/zero, /dev/full), and the
    /// descriptor goes to workers in blocking mode instead.
    /// </summary>
    public static PlatformStream Adopt(EventLoop loop, int fd, int type, bool ownsDescriptor, bool fifoReader, string description)
    {
        if (loop.SupportsDescriptors)
        {
            try
            {
                var kind = type == S_IFSOCK ? DescriptorKind.Socket : DescriptorKind.Pipe;
                return fifoReader
                    ? new FifoReaderStream(loop, fd, description, ownsDescriptor)
                    : new PolledDescriptorStream(loop, fd, kind, description, ownsDescriptor);
            }
            catch (SystemCallException e) when (e.ErrorNumber == Errno.EPERM) { /* not pollable: workers below */ }
        }
        if (SetNonBlocking(fd, false) < 0) throw SystemErrors.From("fcntl", LastErrno, description);
        return new BlockingDescriptorStream(loop, fd, ownsDescriptor, positioned: false, closeOnShutdownWrite: true,
            waitForWriter: fifoReader, description);
    }

    /// <summary>An anonymous pipe: on epoll both ends non-blocking and registered; otherwise blocking ends on workers.</summary>
    public static unsafe (DataStream Reader, DataStream Writer) CreatePipe(EventLoop loop)
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC | (loop.SupportsDescriptors ? O_NONBLOCK : 0)) < 0) throw SystemErrors.From("pipe2", LastErrno, null);
        PlatformStream? reader = null;
        try
        {
            reader = Adopt(loop, fds[0], S_IFIFO, ownsDescriptor: true, fifoReader: false, $"pipe fd {fds[0]} (read end)");
            var writer = Adopt(loop, fds[1], S_IFIFO, ownsDescriptor: true, fifoReader: false, $"pipe fd {fds[1]} (write end)");
            return (new DataStream(loop, reader), new DataStream(loop, writer));
        }
        catch
        {
            if (reader is not null) reader.CloseAsync().AsTask().GetAwaiter().GetResult();
            else close(fds[0]);
            close(fds[1]);
            throw;
        }
    }

    public static string TypeName(int type) => type switch
    {
        S_IFREG => "file",
        S_IFIFO => "pipe",
        S_IFCHR => "char device",
        S_IFBLK => "block device",
        S_IFSOCK => "socket",
        S_IFDIR => "directory",
        _ => "special file",
    };
}

/// <summary>
/// The read end of a FIFO opened by path. Opened non-blocking, it reads end-of-stream until a writer has connected,
/// so the first read waits for a readiness edge first: data, or a writer that came and went (EPOLLHUP). Epoll
/// reports neither while no writer has ever opened the FIFO, which is exactly "wait for the other end".
/// </summary>
internal sealed class FifoReaderStream(EventLoop loop, int fd, string description, bool ownsDescriptor)
    : PolledDescriptorStream(loop, fd, DescriptorKind.Pipe, description, ownsDescriptor)
{
    private bool _sawReadiness;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _sawReadiness ? base.ReadAsync(buffer, cancellationToken) : FirstReadAsync(buffer, cancellationToken);

    private async ValueTask<int> FirstReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (Descriptor < 0) throw new ObjectDisposedException(Description);
        await WaitReadableAsync(cancellationToken);
        _sawReadiness = true;
        return await base.ReadAsync(buffer, cancellationToken);
    }
}
