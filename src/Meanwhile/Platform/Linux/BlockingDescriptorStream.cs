using Microsoft.Win32.SafeHandles;
using static Meanwhile.LinuxNative;

namespace Meanwhile;

/// <summary>
/// A stream over a blocking descriptor whose system calls run on worker threads (libuv's file "requests"):
/// regular files, which epoll cannot watch; character devices that refuse epoll (/dev/null, /dev/zero answer EPERM);
/// standard streams redirected to files; and pipes, FIFOs and devices on the portable reactor, which watches no
/// descriptors. Each read or write is one worker round trip; the result resumes the caller on the loop.
/// </summary>
/// <remarks>
/// The descriptor lives in a <see cref="SafeFileHandle"/> so that closing it while a worker is still inside a system
/// call is safe: every call holds a reference, and the real close(2) waits for the last one. A number closed under a
/// running read could otherwise be reused by another open and read by mistake.
/// </remarks>
internal sealed class BlockingDescriptorStream : PlatformStream, IPlatformFile
{
    private readonly EventLoop _loop;
    private readonly SafeFileHandle _handle;
    private readonly string _description;
    private readonly bool _positioned;
    private readonly bool _closeOnShutdownWrite;
    private bool _waitForWriter;

    /// <param name="loop">The owning loop.</param>
    /// <param name="fd">A blocking descriptor.</param>
    /// <param name="ownsDescriptor">Whether closing the stream closes the descriptor (false for fds 0, 1 and 2).</param>
    /// <param name="positioned">Sequential reads and writes use pread/pwrite at <see cref="Position"/> (seekable files
    /// opened by this library); otherwise read/write at the kernel's own offset (pipes, devices, inherited stdio).</param>
    /// <param name="closeOnShutdownWrite">Half-close closes the descriptor (a pipe's write end); files have no peer to tell.</param>
    /// <param name="waitForWriter">A FIFO opened for reading before any writer: read(2) would report end of stream at
    /// once, so the first read first polls until a writer has written or come and gone.</param>
    /// <param name="description">What it is, for messages.</param>
    public BlockingDescriptorStream(EventLoop loop, int fd, bool ownsDescriptor, bool positioned, bool closeOnShutdownWrite,
        bool waitForWriter, string description)
    {
        _loop = loop;
        _handle = new SafeFileHandle(fd, ownsDescriptor);
        _positioned = positioned;
        _closeOnShutdownWrite = closeOnShutdownWrite;
        _waitForWriter = waitForWriter;
        _description = description;
    }

    public override string Description => _description;

    /// <remarks>Each write is a blocking call on a worker.</remarks>
    public override bool WritesOutliveCancellation => true;

    /// <summary>Where the next sequential read or write happens (positioned transports; loop thread).</summary>
    public long Position { get; set; }

    public bool IsClosed => _handle.IsClosed;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_handle.IsClosed) return ValueTask.FromException<int>(new ObjectDisposedException(Description));
        // A zero-byte read asks "may data be available?": a worker-backed descriptor cannot know without blocking, so it says yes.
        if (buffer.IsEmpty) return new ValueTask<int>(0);
        return new ValueTask<int>(SequentialReadAsync(buffer, cancellationToken));
    }

    private async Task<int> SequentialReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (!_positioned) return await ReadAtAsync(buffer, -1, cancellationToken);
        int n = await ReadAtAsync(buffer, Position, cancellationToken);
        Position += n;
        return n;
    }

    /// <summary>Reads at <paramref name="offset"/> (-1: at the kernel's offset) on a worker.</summary>
    public Task<int> ReadAtAsync(Memory<byte> buffer, long offset, CancellationToken cancellationToken)
    {
        bool waitForWriter = _waitForWriter;
        _waitForWriter = false;
        return _loop.RunOnWorker(() => ReadBlocking(buffer, offset, waitForWriter, cancellationToken), cancellationToken);
    }

    private unsafe int ReadBlocking(Memory<byte> buffer, long offset, bool waitForWriter, CancellationToken cancellationToken)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            int fd = (int)_handle.DangerousGetHandle();
            // Poll in short slices so that closing the stream or cancelling the read frees this worker.
            while (waitForWriter && !_handle.IsClosed && !cancellationToken.IsCancellationRequested)
            {
                int ready = PollOne(fd, POLLIN, 100);
                if (ready > 0) break;
                if (ready < 0 && LastErrno != Errno.EINTR) throw SystemErrors.From("poll", LastErrno, Description);
            }
            cancellationToken.ThrowIfCancellationRequested();
            using var pin = buffer.Pin();
            while (true)
            {
                nint n = offset < 0 ? read(fd, (byte*)pin.Pointer, buffer.Length) : pread(fd, (byte*)pin.Pointer, buffer.Length, offset);
                if (n >= 0) return (int)n;
                int errno = LastErrno;
                if (errno == Errno.EAGAIN) PollOne(fd, POLLIN, 100); // someone else set O_NONBLOCK on a shared description
                else if (errno != Errno.EINTR) throw SystemErrors.From(offset < 0 ? "read" : "pread", errno, Description);
            }
        }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(Description); }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_handle.IsClosed) return ValueTask.FromException(new ObjectDisposedException(Description));
        if (data.IsEmpty) return ValueTask.CompletedTask;
        return new ValueTask(SequentialWriteAsync(data, cancellationToken));
    }

    private async Task SequentialWriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (!_positioned)
        {
            await WriteAtAsync(data, -1, cancellationToken);
            return;
        }
        // The position moves before the write completes, so a write that fails half-way leaves it past what was written;
        // positioned callers who care use WriteAtAsync.
        long at = Position;
        Position += data.Length;
        await WriteAtAsync(data, at, cancellationToken);
    }

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/> (-1: at the kernel's offset) on a worker.</summary>
    public Task WriteAtAsync(ReadOnlyMemory<byte> data, long offset, CancellationToken cancellationToken) =>
        _loop.RunOnWorker(() => WriteBlocking(data, offset), cancellationToken);

    private unsafe void WriteBlocking(ReadOnlyMemory<byte> data, long offset)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            int fd = (int)_handle.DangerousGetHandle();
            using var pin = data.Pin();
            byte* p = (byte*)pin.Pointer;
            long written = 0;
            while (written < data.Length)
            {
                nint n = offset < 0 ? write(fd, p + written, (nint)(data.Length - written)) : pwrite(fd, p + written, (nint)(data.Length - written), offset + written);
                if (n >= 0)
                {
                    written += n;
                    continue;
                }
                int errno = LastErrno;
                if (errno == Errno.EAGAIN) PollOne(fd, POLLOUT, 100); // someone else set O_NONBLOCK on a shared description
                else if (errno != Errno.EINTR) throw SystemErrors.From(offset < 0 ? "write" : "pwrite", errno, Description);
            }
        }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(Description); }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>Runs a blocking call that needs the descriptor on a worker, holding a reference for its duration.</summary>
    private Task<T> OnWorker<T>(Func<int, T> call, CancellationToken cancellationToken) =>
        _loop.RunOnWorker(() =>
        {
            bool added = false;
            try
            {
                _handle.DangerousAddRef(ref added);
                return call((int)_handle.DangerousGetHandle());
            }
            catch (ObjectDisposedException) { throw new ObjectDisposedException(Description); }
            finally
            {
                if (added) _handle.DangerousRelease();
            }
        }, cancellationToken);

    public long GetLength()
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            if (StatDescriptor((int)_handle.DangerousGetHandle(), out _, out long size) < 0)
                throw SystemErrors.From("statx", LastErrno, Description);
            return size;
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    public Task SetLengthAsync(long length, CancellationToken cancellationToken)
    {
        string description = Description;
        return OnWorker(fd => ftruncate(fd, length) < 0 ? throw SystemErrors.From("ftruncate", LastErrno, description) : 0, cancellationToken);
    }

    public Task SyncAsync(CancellationToken cancellationToken)
    {
        string description = Description;
        return OnWorker(fd => fsync(fd) < 0 ? throw SystemErrors.From("fsync", LastErrno, description) : 0, cancellationToken);
    }

    /// <summary>sendfile(2) into a socket of the epoll path; a copy through a buffer into any other.</summary>
    public Task<long> SendToAsync(DataStream destination, long offset, long count, CancellationToken cancellationToken) =>
        destination.Platform is PolledDescriptorStream socket
            ? SendFileAsync(socket, offset, count, cancellationToken)
            : FileCopy.SendAsync(this, destination, offset, count, cancellationToken);

    private async Task<long> SendFileAsync(PolledDescriptorStream socket, long offset, long count, CancellationToken cancellationToken)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            int fileFd = (int)_handle.DangerousGetHandle();
            long position = offset, end = offset + count;
            while (position < end)
            {
                int socketFd = socket.Descriptor;
                if (socketFd < 0) throw new ObjectDisposedException(socket.Description);
                nint n = SendChunk(socketFd, fileFd, ref position, (nint)Math.Min(end - position, 1L << 30));
                if (n > 0) continue;
                if (n == 0) break; // the file is shorter than asked
                int errno = LastErrno;
                if (errno == Errno.EAGAIN) await socket.WaitWritableAsync(cancellationToken);
                else if (errno != Errno.EINTR) throw SystemErrors.From("sendfile", errno, $"{Description} -> {socket.Description}");
            }
            return position - offset;
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    private static unsafe nint SendChunk(int socketFd, int fileFd, ref long position, nint count)
    {
        fixed (long* p = &position) return sendfile(socketFd, fileFd, p, count); // advances position by what it sent
    }

    public override void ShutdownWrite()
    {
        if (_closeOnShutdownWrite) _handle.Dispose();
    }

    public override ValueTask CloseAsync()
    {
        // A system call still running on a worker keeps the descriptor open until it returns (see the remarks).
        _handle.Dispose();
        return ValueTask.CompletedTask;
    }
}
