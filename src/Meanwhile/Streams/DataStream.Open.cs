
namespace Meanwhile;

public partial class DataStream
{
    /// <summary>
    /// Opens <paramref name="path"/> as a stream, whatever it is: a FIFO made with mkfifo, a character device
    /// (/dev/urandom, /dev/zero, /dev/null, a terminal), or a regular file (then the result is a <see cref="FileDataStream"/>
    /// reading from its start). Pollable descriptors go through the reactor; files and devices epoll refuses go to
    /// worker threads.
    /// </summary>
    /// <remarks>
    /// Like open(2), opening a FIFO waits for its other end: for reading, the first read waits until a writer has
    /// written or come and gone; for writing, the open itself waits (retrying on a short timer, so it can be
    /// cancelled) until a reader has it open. To create or truncate files use <see cref="OpenFileAsync"/>.
    /// </remarks>
    /// <param name="path">What to open.</param>
    /// <param name="access">Read, write, or both.</param>
    /// <param name="cancellationToken">Abandons the open.</param>
    /// <exception cref="PathNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="PermissionDeniedException">The permissions forbid the access.</exception>
    /// <exception cref="SystemCallException">Other failures, by errno (EISDIR for a directory).</exception>
    public static Task<DataStream> OpenAsync(string path, FileAccess access = FileAccess.Read, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return CurrentLoop().Platform.OpenAsync(path, access, cancellationToken);
    }

    /// <summary>
    /// Opens a regular file for positioned reads and writes on worker threads (regular files are not pollable).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="mode">Whether to create, truncate or append, as for <see cref="File.Open(string, FileMode, FileAccess)"/>.</param>
    /// <param name="access">Read, write, or both.</param>
    /// <param name="cancellationToken">Abandons the open.</param>
    /// <exception cref="PathNotFoundException">The file (or a directory on its path) does not exist.</exception>
    /// <exception cref="PermissionDeniedException">The permissions forbid the access.</exception>
    /// <exception cref="SystemCallException">Other failures, by errno (EISDIR for a directory, EEXIST for CreateNew).</exception>
    /// <exception cref="InvalidOperationException">The path is a FIFO or a device: use <see cref="OpenAsync"/>.</exception>
    public static Task<FileDataStream> OpenFileAsync(string path, FileMode mode = FileMode.Open, FileAccess access = FileAccess.Read,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return CurrentLoop().Platform.OpenFileAsync(path, mode, access, cancellationToken);
    }

    /// <summary>
    /// Opens the regular file <paramref name="relativePath"/> below <paramref name="directory"/> for reading, refusing any
    /// resolution that leaves the directory: <c>..</c>, an absolute path, or a symbolic link (anywhere on the way) that
    /// points outside. Links that stay inside work. The check is the open itself (openat2 with RESOLVE_BENEATH, Linux 5.6
    /// and later), so nobody can swap a directory for a link between a check and the open; on older kernels the path of
    /// the opened descriptor is checked instead.
    /// </summary>
    /// <param name="directory">The directory the file must be in, or below.</param>
    /// <param name="relativePath">The file's path relative to <paramref name="directory"/>.</param>
    /// <param name="cancellationToken">Abandons the open.</param>
    /// <exception cref="PathOutsideDirectoryException">Resolving the path would leave <paramref name="directory"/> (or the file was moved out of it during the open).</exception>
    /// <exception cref="PathNotFoundException">The file (or a directory on its path) does not exist.</exception>
    /// <exception cref="PermissionDeniedException">The permissions forbid reading it.</exception>
    /// <exception cref="SystemCallException">Other failures, by errno (EISDIR for a directory, ELOOP for too many links).</exception>
    /// <exception cref="InvalidOperationException">The path is a FIFO or a device: use <see cref="OpenAsync"/>.</exception>
    public static Task<FileDataStream> OpenFileBeneathAsync(string directory, string relativePath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        return CurrentLoop().Platform.OpenFileBeneathAsync(directory, relativePath, cancellationToken);
    }

    /// <summary>
    /// Creates an anonymous pipe: what is written to <c>Writer</c> is read from <c>Reader</c>. Disposing the writer
    /// (or <see cref="ShutdownWrite"/>) gives the reader end of stream. Both ends are close-on-exec.
    /// </summary>
    public static (DataStream Reader, DataStream Writer) CreatePipe()
    {
        return CurrentLoop().Platform.CreatePipe();
    }

    private static EventLoop CurrentLoop()
    {
        var loop = EventLoop.Current;
        loop.CheckThread();
        return loop;
    }
}
