
namespace Meanwhile;

/// <summary>
/// The process's own STDIN, STDOUT and STDERR as data streams on the current loop, whether each is a terminal, a
/// pipe, a socket or a regular file.
/// </summary>
/// <remarks>
/// <para>On the epoll reactor, pollable ones (pipe, terminal, socket, most character devices) are watched by epoll with
/// O_NONBLOCK set; regular files and devices epoll refuses go to worker threads. O_NONBLOCK is shared with every
/// process holding the same open file description (the shell, the rest of a pipeline), so it is set only while a stream
/// uses it and put back as it was when the last one is disposed, and at process exit for streams never disposed.</para>
/// <para>On the portable reactor the .NET console streams are read and written on worker threads.</para>
/// <para>Disposing a standard stream never closes descriptors 0, 1 or 2. Each call returns a new stream; use one at a
/// time per descriptor for reading (two readers would split the input between them).</para>
/// </remarks>
public static class StandardStreams
{
    /// <summary>STDIN (fd 0) as a readable stream on the current loop.</summary>
    public static DataStream OpenInput() => Open(0);

    /// <summary>STDOUT (fd 1) as a writable stream on the current loop. Writes complete when the bytes are handed to the kernel.</summary>
    public static DataStream OpenOutput() => Open(1);

    /// <summary>STDERR (fd 2) as a writable stream on the current loop.</summary>
    public static DataStream OpenError() => Open(2);

    private static DataStream Open(int fd)
    {
        var loop = EventLoop.Current;
        loop.CheckThread();
        return loop.Platform.OpenStandardStream(fd);
    }
}
