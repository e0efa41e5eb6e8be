using System.Text;

namespace Meanwhile;

/// <summary>
/// A regular file on the loop. Regular files are always "ready" to epoll, so every read and write runs on a worker
/// thread (libuv does the same) and resumes the caller on the loop. Sequential <see cref="DataStream.ReadAsync"/> and
/// <see cref="DataStream.WriteAsync"/> move <see cref="Position"/>; <see cref="ReadAtAsync"/> and
/// <see cref="WriteAtAsync"/> work at any offset and leave it alone.
/// </summary>
/// <remarks>Open one with <see cref="DataStream.OpenFileAsync"/>; the static helpers read or write a whole file.</remarks>
public sealed class FileDataStream : DataStream
{
    private const int CopyChunk = 256 * 1024;
    private readonly IPlatformFile _file;

    internal FileDataStream(EventLoop loop, PlatformStream stream, IPlatformFile file, string path) : base(loop, stream)
    {
        _file = file;
        Path = path;
    }

    /// <summary>The path the file was opened with.</summary>
    public string Path { get; }

    /// <summary>Where the next sequential read or write happens, in bytes from the start.</summary>
    public long Position
    {
        get => _file.Position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _file.Position = value;
        }
    }

    /// <summary>The file's current size (one fstat; cheap enough for the loop thread).</summary>
    /// <exception cref="ObjectDisposedException">The file is closed.</exception>
    public long Length
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return _file.GetLength();
        }
    }

    /// <summary>Reads into <paramref name="buffer"/> at <paramref name="offset"/>; returns how many bytes (0 at or past the end).</summary>
    /// <param name="offset">Where to read, in bytes from the start.</param>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <param name="cancellationToken">Abandons the wait (the worker's read runs to its end).</param>
    public async ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        CheckOpen();
        if (buffer.IsEmpty) return 0;
        return await _file.ReadAtAsync(buffer, offset, cancellationToken);
    }

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>, growing the file if needed.</summary>
    /// <param name="offset">Where to write, in bytes from the start.</param>
    /// <param name="data">What to write.</param>
    /// <param name="cancellationToken">Abandons the wait (the worker's write runs to its end).</param>
    /// <exception cref="DiskFullException">The file system is full (what was written before stays).</exception>
    public async ValueTask WriteAtAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        CheckOpen();
        if (data.IsEmpty) return;
        await _file.WriteAtAsync(data, offset, cancellationToken);
    }

    /// <summary>Truncates or extends the file to <paramref name="length"/> bytes.</summary>
    /// <param name="length">The new size.</param>
    /// <param name="cancellationToken">Abandons the wait.</param>
    public Task SetLengthAsync(long length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        CheckOpen();
        return _file.SetLengthAsync(length, cancellationToken);
    }

    /// <summary>Waits until the file's data is on the storage device (fsync).</summary>
    /// <param name="cancellationToken">Abandons the wait.</param>
    public Task SyncAsync(CancellationToken cancellationToken = default)
    {
        CheckOpen();
        return _file.SyncAsync(cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="count"/> bytes of this file from <paramref name="offset"/> to <paramref name="destination"/>
    /// without copying them through user space where the platform allows: on epoll, sendfile(2) from the file straight
    /// into the socket, waiting for writability on EAGAIN; elsewhere, reads into a pooled buffer and socket writes.
    /// Does not move <see cref="Position"/>.
    /// </summary>
    /// <remarks>
    /// sendfile runs on the loop thread: the socket is non-blocking, and reading the file comes from the page cache
    /// (a cold file makes the loop wait for the disk, as in nginx without its thread pool). Do not write to
    /// <paramref name="destination"/> while this runs.
    /// </remarks>
    /// <param name="destination">A stream of the same loop: a connected socket gets sendfile(2) on epoll; any other (a <see cref="TlsStream"/>) gets reads and writes.</param>
    /// <param name="offset">Where in the file to start.</param>
    /// <param name="count">How many bytes to send.</param>
    /// <param name="cancellationToken">Stops sending (some bytes may have been sent).</param>
    /// <returns>The bytes sent: <paramref name="count"/>, or fewer if the file ended first.</returns>
    public async Task<long> SendToAsync(DataStream destination, long offset, long count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CheckOpen();
        ObjectDisposedException.ThrowIf(destination.IsClosed, destination);
        return await _file.SendToAsync(destination, offset, count, cancellationToken);
    }

    private void CheckOpen()
    {
        Loop.CheckThread();
        ObjectDisposedException.ThrowIf(IsClosed, this);
    }

    /// <summary>Reads a whole file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">Abandons the read.</param>
    /// <exception cref="PathNotFoundException">The file does not exist.</exception>
    public static async Task<byte[]> ReadAllBytesAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var file = await OpenFileAsync(path, FileMode.Open, FileAccess.Read, cancellationToken);
        long length = file.Length;
        if (length > Array.MaxLength) throw new IOException($"{path} is {length} bytes, more than an array holds.");
        var data = new byte[length];
        int filled = 0;
        while (filled < data.Length)
        {
            int n = await file.ReadAtAsync(filled, data.AsMemory(filled), cancellationToken);
            if (n == 0) return data[..filled]; // shrank meanwhile
            filled += n;
        }
        // Files under /proc and the like report size 0 yet have content: read until end of stream.
        using var rest = new MemoryStream();
        var chunk = new byte[CopyChunk];
        while (true)
        {
            int n = await file.ReadAtAsync(filled + rest.Length, chunk, cancellationToken);
            if (n == 0) break;
            rest.Write(chunk, 0, n);
        }
        return rest.Length == 0 ? data : [.. data, .. rest.ToArray()];
    }

    /// <summary>Reads a whole file as text (UTF-8 unless said otherwise; a byte order mark is honoured).</summary>
    /// <param name="path">The file.</param>
    /// <param name="encoding">The encoding; null for UTF-8.</param>
    /// <param name="cancellationToken">Abandons the read.</param>
    public static async Task<string> ReadAllTextAsync(string path, Encoding? encoding = null, CancellationToken cancellationToken = default)
    {
        var bytes = await ReadAllBytesAsync(path, cancellationToken);
        using var reader = new StreamReader(new MemoryStream(bytes), encoding ?? Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <summary>Creates or replaces a file with <paramref name="data"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="data">Its new content.</param>
    /// <param name="cancellationToken">Abandons the write.</param>
    /// <exception cref="DiskFullException">The file system is full.</exception>
    public static async Task WriteAllBytesAsync(string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await using var file = await OpenFileAsync(path, FileMode.Create, FileAccess.Write, cancellationToken);
        await file.WriteAsync(data, cancellationToken);
    }

    /// <summary>Creates or replaces a file with <paramref name="text"/> (UTF-8 without a byte order mark unless said otherwise).</summary>
    /// <param name="path">The file.</param>
    /// <param name="text">Its new content.</param>
    /// <param name="encoding">The encoding; null for UTF-8.</param>
    /// <param name="cancellationToken">Abandons the write.</param>
    public static Task WriteAllTextAsync(string path, string text, Encoding? encoding = null, CancellationToken cancellationToken = default) =>
        WriteAllBytesAsync(path, (encoding ?? new UTF8Encoding(false)).GetBytes(text), cancellationToken);

    /// <summary>Appends <paramref name="data"/> to a file, creating it if needed.</summary>
    /// <param name="path">The file.</param>
    /// <param name="data">What to append.</param>
    /// <param name="cancellationToken">Abandons the write.</param>
    public static async Task AppendAllBytesAsync(string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await using var file = await OpenFileAsync(path, FileMode.Append, FileAccess.Write, cancellationToken);
        await file.WriteAsync(data, cancellationToken);
    }
}
