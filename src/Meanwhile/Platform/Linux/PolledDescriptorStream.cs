using System.Runtime.CompilerServices;
using static Meanwhile.LinuxNative;

namespace Meanwhile;

/// <summary>What kind of descriptor a transport drives: it decides the system calls used.</summary>
internal enum DescriptorKind
{
    /// <summary>A connected stream socket: recv/send with MSG_NOSIGNAL, shutdown for half-close.</summary>
    Socket,
    /// <summary>A pipe, FIFO, terminal or character device: read/write; half-close closes the write side.</summary>
    Pipe,
}

/// <summary>
/// A stream over a non-blocking descriptor watched by epoll. Reads and writes try the system call first and wait
/// for readiness only on EAGAIN (edge-triggered), so a ready stream costs one system call and no allocation.
/// </summary>
internal class PolledDescriptorStream : PlatformStream
{
    private readonly IoRegistration _registration;
    private readonly DescriptorKind _kind;
    private readonly bool _ownsDescriptor;
    private readonly string? _description;
    private int _fd;

    public PolledDescriptorStream(EventLoop loop, int fd, DescriptorKind kind, string? description, bool ownsDescriptor = true)
    {
        _fd = fd;
        _kind = kind;
        _description = description;
        _ownsDescriptor = ownsDescriptor;
        _registration = loop.Register(fd);
    }

    private bool _readPending;
    private bool _writePending;

    // A stream socket read that returned less than asked emptied the receive queue: the next read waits for the
    // next readiness edge instead of trying recv first and getting EAGAIN (nginx's rev->available, tokio's
    // clear_readiness). Data that arrives in between makes a new edge, so nothing is missed; an end of stream or
    // error that came with the data makes no new edge, which is why the registration's sticky ReadClosed overrides it.
    private bool _drained;

    public int Descriptor => _fd;

    /// <summary>
    /// Someone else's read (OpenSSL's, on the descriptor) emptied the receive queue: the next zero-byte read waits for
    /// the next edge without peeking first, as after a short read of the stream's own.
    /// </summary>
    public void NoteDrained()
    {
        if (_kind == DescriptorKind.Socket) _drained = true;
    }

    // Checked here rather than by DataStream: the slow paths are async methods already, so the guard costs nothing.
    public override bool GuardsConcurrentOperations => true;

    public override string Description => _description ?? $"fd {_fd}";

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_fd < 0) return ValueTask.FromException<int>(new ObjectDisposedException(Description));
        if (_readPending || _registration.IsWaitingReadable) throw new InvalidOperationException($"A read is already in progress on {Description}; one reader at a time.");
        if (buffer.IsEmpty) return DataMayBeThere() ? new ValueTask<int>(0) : _registration.WaitReadableForZeroByteRead(cancellationToken);
        if (_drained && !_registration.ReadClosed) return ReadSlowAsync(buffer, cancellationToken);
        nint n = TryRead(buffer.Span);
        if (n >= 0) return new ValueTask<int>((int)n);
        int errno = LastErrno;
        if (errno == Errno.EAGAIN) return ReadSlowAsync(buffer, cancellationToken);
        return ValueTask.FromException<int>(SystemErrors.From(_kind == DescriptorKind.Socket ? "recv" : "read", errno, Description));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        _readPending = true;
        try
        {
            while (true)
            {
                await _registration.WaitReadableAsync(cancellationToken);
                nint n = TryRead(buffer.Span);
                if (n >= 0) return (int)n;
                int errno = LastErrno;
                if (errno != Errno.EAGAIN && errno != Errno.EINTR)
                    throw SystemErrors.From(_kind == DescriptorKind.Socket ? "recv" : "read", errno, Description);
            }
        }
        finally
        {
            _readPending = false;
        }
    }

    public override ValueTask<bool> WaitForDataAsync(CancellationToken cancellationToken)
    {
        if (_fd < 0) return ValueTask.FromException<bool>(new ObjectDisposedException(Description));
        if (_readPending || _registration.IsWaitingReadable) throw new InvalidOperationException($"A read is already in progress on {Description}; one reader at a time.");
        return DataMayBeThere() ? new ValueTask<bool>(true) : _registration.WaitReadableUnlessCanceled(cancellationToken);
    }

    /// <summary>Before a zero-byte read waits: true if there is no need to.</summary>
    private bool DataMayBeThere()
    {
        // A zero-byte read: wait without a buffer, and without any object of its own — the readiness wait itself
        // completes the read with 0. Sockets peek first to skip a needless wait; other descriptors rely on the
        // readiness edge (a spurious wake-up only costs the caller an EAGAIN).
        if (_kind == DescriptorKind.Socket)
        {
            if (!_drained || _registration.ReadClosed || _registration.HasReadableEdge)
            {
                if (!WouldBlockOnPeek()) return true; // data, end of stream, or an error for the real read
                // Nothing to read: an edge remembered from earlier (the accept, data read since) is stale. Waking on it
                // would make the caller rent a buffer and then park holding it.
                _registration.ForgetReadableEdge();
            }
        }
        _drained = false; // the edge this wait consumes means the next read must try recv
        return false;
    }

    private unsafe bool WouldBlockOnPeek()
    {
        byte probe;
        return recv(_fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && LastErrno == Errno.EAGAIN;
    }

    private unsafe nint TryRead(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                if (_kind == DescriptorKind.Socket)
                {
                    nint received = recv(_fd, p, buffer.Length, 0);
                    if (received >= 0)
                    {
                        _drained = received > 0 && received < buffer.Length;
                        return received;
                    }
                    _drained = false;
                    if (LastErrno != Errno.EINTR) return received;
                    continue;
                }
                nint n = read(_fd, p, buffer.Length);
                if (n >= 0 || LastErrno != Errno.EINTR) return n;
            }
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_fd < 0) return ValueTask.FromException(new ObjectDisposedException(Description));
        if (_writePending) throw new InvalidOperationException($"A write is already in progress on {Description}; one writer at a time.");
        int written = 0;
        while (written < data.Length)
        {
            nint n = TryWrite(data.Span[written..]);
            if (n >= 0)
            {
                written += (int)n;
                continue;
            }
            int errno = LastErrno;
            if (errno == Errno.EAGAIN) return WriteSlowAsync(data[written..], cancellationToken);
            return ValueTask.FromException(SystemErrors.From(_kind == DescriptorKind.Socket ? "send" : "write", errno, Description));
        }
        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // The kernel buffer is full: wait for room. This is the backpressure: the writer waits for its peer.
        _writePending = true;
        try
        {
            while (!data.IsEmpty)
            {
                await _registration.WaitWritableAsync(cancellationToken);
                while (!data.IsEmpty)
                {
                    nint n = TryWrite(data.Span);
                    if (n >= 0)
                    {
                        data = data[(int)n..];
                        continue;
                    }
                    int errno = LastErrno;
                    if (errno == Errno.EAGAIN) break;
                    if (errno != Errno.EINTR) throw SystemErrors.From(_kind == DescriptorKind.Socket ? "send" : "write", errno, Description);
                }
            }
        }
        finally
        {
            _writePending = false;
        }
    }

    private unsafe nint TryWrite(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                // MSG_NOSIGNAL: a peer that went away gives EPIPE, never SIGPIPE.
                nint n = _kind == DescriptorKind.Socket ? send(_fd, p, data.Length, MSG_NOSIGNAL) : write(_fd, p, data.Length);
                if (n >= 0 || LastErrno != Errno.EINTR) return n;
            }
        }
    }

    /// <summary>Waits until the descriptor is writable (used by connect, sendfile).</summary>
    public ValueTask WaitWritableAsync(CancellationToken cancellationToken) => _registration.WaitWritableAsync(cancellationToken);

    /// <summary>Waits until the descriptor is readable.</summary>
    public ValueTask WaitReadableAsync(CancellationToken cancellationToken) => _registration.WaitReadableAsync(cancellationToken);

    public override void ShutdownWrite()
    {
        if (_kind == DescriptorKind.Socket)
        {
            if (shutdown(_fd, SHUT_WR) < 0)
            {
                int errno = LastErrno;
                if (errno != Errno.ENOTCONN) throw SystemErrors.From("shutdown", errno, Description);
            }
        }
        else
        {
            // A pipe has one direction: ending the write side means closing it.
            Close();
        }
    }

    public override ValueTask CloseAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    private void Close()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        // Pending waits end with ObjectDisposedException.
        if (_ownsDescriptor)
        {
            _registration.DisposeBeforeClose();
            close(fd);
        }
        else _registration.Dispose();
    }
}
