using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A connected stream socket of the portable backend: a non-blocking .NET <see cref="Socket"/> whose reads and writes
/// are tried at once and wait on the <see cref="SelectPoller"/> only when they would block, as the epoll path does
/// with its descriptors. The socket never starts a .NET async operation, so it is never handed to .NET's socket engine
/// and its completions never wait for a thread-pool thread.
/// </summary>
internal sealed class PortableSocketStream : PlatformStream, IConnectedSocket
{
    private readonly Socket _socket;
    private readonly IoRegistration _registration;
    private readonly byte[] _peek = new byte[1];
    private string? _description;
    private bool _readPending;
    private bool _writePending;
    private bool _closed;

    public PortableSocketStream(SelectPoller poller, Socket socket)
    {
        socket.Blocking = false;
        _socket = socket;
        _registration = poller.Register(socket);
    }

    public EndPoint? LocalEndPoint => _closed ? null : _socket.LocalEndPoint;

    public EndPoint? RemoteEndPoint =>
        _closed ? null
        : _socket.AddressFamily == AddressFamily.Unix && _socket.RemoteEndPoint is UnixDomainSocketEndPoint { } u && u.ToString() is "" ? null
        : _socket.RemoteEndPoint;

    public override bool GuardsConcurrentOperations => true;

    public override string Description => _description ??= Describe();

    // Asked for in error messages, also once the socket is closed, when a .NET Socket no longer tells its addresses:
    // describing a closed stream must not throw in place of the error being reported.
    private string Describe()
    {
        string kind = _socket.AddressFamily == AddressFamily.Unix ? "unix" : "tcp";
        try { return $"{kind} {_socket.LocalEndPoint} <-> {_socket.RemoteEndPoint}"; }
        catch (ObjectDisposedException) { return $"{kind} socket (closed)"; }
        catch (SocketException) { return $"{kind} socket (no longer connected)"; } // ENOTCONN once the peer reset it
    }

    public override ValueTask<bool> WaitForDataAsync(CancellationToken cancellationToken)
    {
        if (_closed) return ValueTask.FromException<bool>(new ObjectDisposedException(Description));
        if (_readPending || _registration.IsWaitingReadable) throw new InvalidOperationException($"A read is already in progress on {Description}; one reader at a time.");
        return DataMayBeThere() ? new ValueTask<bool>(true) : _registration.WaitReadableUnlessCanceled(cancellationToken);
    }

    // Data, an end of stream or an error already there: a zero-byte read need not wait (a peek, as the epoll path does).
    private bool DataMayBeThere() => _socket.Receive(_peek, SocketFlags.Peek, out var peeked) > 0 || peeked != SocketError.WouldBlock;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_closed) return ValueTask.FromException<int>(new ObjectDisposedException(Description));
        if (_readPending || _registration.IsWaitingReadable) throw new InvalidOperationException($"A read is already in progress on {Description}; one reader at a time.");
        if (buffer.IsEmpty) return DataMayBeThere() ? new ValueTask<int>(0) : _registration.WaitReadableForZeroByteRead(cancellationToken);
        int n = _socket.Receive(buffer.Span, SocketFlags.None, out var error);
        if (error == SocketError.Success) return new ValueTask<int>(n);
        if (error == SocketError.WouldBlock) return ReadSlowAsync(buffer, cancellationToken);
        return ValueTask.FromException<int>(SystemErrors.From("recv", error, Description));
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
                int n = _socket.Receive(buffer.Span, SocketFlags.None, out var error);
                if (error == SocketError.Success) return n;
                if (error != SocketError.WouldBlock) throw SystemErrors.From("recv", error, Description);
            }
        }
        finally
        {
            _readPending = false;
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_closed) return ValueTask.FromException(new ObjectDisposedException(Description));
        if (_writePending) throw new InvalidOperationException($"A write is already in progress on {Description}; one writer at a time.");
        while (!data.IsEmpty)
        {
            int n = _socket.Send(data.Span, SocketFlags.None, out var error);
            if (error == SocketError.Success)
            {
                data = data[n..];
                continue;
            }
            if (error == SocketError.WouldBlock) return WriteSlowAsync(data, cancellationToken);
            return ValueTask.FromException(SystemErrors.From("send", error, Description));
        }
        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        // The send buffer is full: wait for room. This is the backpressure: the writer waits for its peer.
        _writePending = true;
        try
        {
            while (!data.IsEmpty)
            {
                await _registration.WaitWritableAsync(cancellationToken);
                while (!data.IsEmpty)
                {
                    int n = _socket.Send(data.Span, SocketFlags.None, out var error);
                    if (error == SocketError.Success)
                    {
                        data = data[n..];
                        continue;
                    }
                    if (error == SocketError.WouldBlock) break;
                    throw SystemErrors.From("send", error, Description);
                }
            }
        }
        finally
        {
            _writePending = false;
        }
    }

    /// <summary>Waits until the socket is writable (a connect in progress has finished).</summary>
    public ValueTask WaitWritableAsync(CancellationToken cancellationToken) => _registration.WaitWritableAsync(cancellationToken);

    public override void ShutdownWrite()
    {
        try { _socket.Shutdown(SocketShutdown.Send); }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NotConnected) { }
        catch (SocketException e) { throw SystemErrors.From("shutdown", e, Description); }
    }

    public override ValueTask CloseAsync()
    {
        if (_closed) return ValueTask.CompletedTask;
        _closed = true;
        _registration.Dispose(); // pending waits end with ObjectDisposedException
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
