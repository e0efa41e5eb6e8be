using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using static Meanwhile.LinuxNative;

namespace Meanwhile;

/// <summary>
/// A UDP socket on the epoll path: a non-blocking SOCK_DGRAM descriptor. Like <see cref="PolledDescriptorStream"/>,
/// each operation tries the system call first and waits for readiness only on EAGAIN, so a datagram that is
/// already there costs one recvfrom and no allocation.
/// </summary>
internal sealed class PolledDatagramSocket : PlatformDatagramSocket
{
    private readonly IoRegistration _registration;
    private IPEndPoint? _remote;
    private int _fd;

    private PolledDatagramSocket(EventLoop loop, int fd, AddressFamily family) : base(family)
    {
        _fd = fd;
        _registration = loop.Register(fd);
    }

    public static PolledDatagramSocket Open(EventLoop loop, AddressFamily family)
    {
        int fd = socket(family == AddressFamily.InterNetworkV6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) throw SystemErrors.From("socket", LastErrno, $"udp {family}");
        try
        {
            // Dual stack whatever net.ipv6.bindv6only says: an IPv6 socket also reaches IPv4 peers (v4-mapped).
            if (family == AddressFamily.InterNetworkV6 && SetOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) < 0)
                throw SystemErrors.From("setsockopt IPV6_V6ONLY", LastErrno, $"udp {family}");
            return new PolledDatagramSocket(loop, fd, family);
        }
        catch
        {
            close(fd);
            throw;
        }
    }

    public override IPEndPoint? LocalEndPoint => _fd >= 0 ? SocketAddresses.Local(_fd) as IPEndPoint : null;

    public override string Description => _fd < 0 ? "udp (closed)" : $"udp {LocalEndPoint?.ToString() ?? "(unbound)"}{(_remote is null ? "" : $" -> {_remote}")}";

    public override unsafe void Bind(IPEndPoint endpoint)
    {
        var address = endpoint.Serialize();
        fixed (byte* p = address.Buffer.Span)
        {
            if (bind(_fd, p, (uint)address.Size) < 0) throw SystemErrors.From("bind", LastErrno, $"udp {endpoint}");
        }
    }

    public override unsafe void Connect(IPEndPoint endpoint)
    {
        var address = Addresses.Destination(endpoint);
        fixed (byte* p = address.Buffer.Span)
        {
            // A datagram connect only records the peer: it never blocks, so EINPROGRESS cannot happen.
            while (connect(_fd, p, (uint)address.Size) < 0)
            {
                int errno = LastErrno;
                if (errno != Errno.EINTR) throw SystemErrors.From("connect", errno, $"{Description} -> {endpoint}");
            }
        }
        _remote = endpoint;
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint? to, CancellationToken cancellationToken)
    {
        if (_fd < 0) return ValueTask.FromException(new ObjectDisposedException(Description));
        var address = to is null ? null : Addresses.Destination(to);
        if (TrySend(datagram.Span, address)) return ValueTask.CompletedTask;
        int errno = LastErrno;
        return errno == Errno.EAGAIN
            ? SendSlowAsync(datagram, to, address, cancellationToken)
            : ValueTask.FromException(SendError(errno, to));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendSlowAsync(ReadOnlyMemory<byte> datagram, IPEndPoint? to, SocketAddress? address, CancellationToken cancellationToken)
    {
        // The socket's send buffer is full: wait for room (backpressure, as for streams).
        while (true)
        {
            await _registration.WaitWritableAsync(cancellationToken);
            if (TrySend(datagram.Span, address)) return;
            int errno = LastErrno;
            if (errno != Errno.EAGAIN) throw SendError(errno, to);
        }
    }

    private SystemCallException SendError(int errno, IPEndPoint? to) =>
        SystemErrors.From(to is null ? "send" : "sendto", errno, to is null ? Description : $"{Description} -> {to}");

    /// <summary>Sends the datagram; false with errno set if it was not sent.</summary>
    private unsafe bool TrySend(ReadOnlySpan<byte> datagram, SocketAddress? address)
    {
        fixed (byte* p = datagram)
        fixed (byte* a = address is null ? default : address.Buffer.Span)
        {
            while (true)
            {
                // A datagram goes whole or not at all, so any non-negative result means sent.
                nint n = sendto(_fd, p, datagram.Length, MSG_NOSIGNAL, a, address is null ? 0u : (uint)address.Size);
                if (n >= 0) return true;
                if (LastErrno != Errno.EINTR) return false;
            }
        }
    }

    public override ValueTask<ReceivedDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_fd < 0) return ValueTask.FromException<ReceivedDatagram>(new ObjectDisposedException(Description));
        nint n = TryReceive(buffer.Span);
        if (n >= 0) return new ValueTask<ReceivedDatagram>(Received(n, buffer.Length));
        int errno = LastErrno;
        return errno == Errno.EAGAIN
            ? ReceiveSlowAsync(buffer, cancellationToken)
            : ValueTask.FromException<ReceivedDatagram>(SystemErrors.From("recvfrom", errno, Description));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReceivedDatagram> ReceiveSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            await _registration.WaitReadableAsync(cancellationToken);
            nint n = TryReceive(buffer.Span);
            if (n >= 0) return Received(n, buffer.Length);
            int errno = LastErrno;
            if (errno != Errno.EAGAIN) throw SystemErrors.From("recvfrom", errno, Description);
        }
    }

    private ReceivedDatagram Received(nint datagramLength, int bufferLength) =>
        new((int)Math.Min(datagramLength, bufferLength), Addresses.Sender(), datagramLength > bufferLength);

    /// <summary>Receives one datagram; returns its full length (MSG_TRUNC), or -1 with errno set.</summary>
    private unsafe nint TryReceive(Span<byte> buffer)
    {
        var from = Addresses.Received;
        fixed (byte* p = buffer)
        fixed (byte* a = from.Buffer.Span)
        {
            while (true)
            {
                uint length = (uint)Addresses.Capacity;
                nint n = recvfrom(_fd, p, buffer.Length, MSG_TRUNC, a, &length);
                if (n >= 0)
                {
                    from.Size = (int)length;
                    return n;
                }
                if (LastErrno != Errno.EINTR) return -1;
            }
        }
    }

    public override ValueTask CloseAsync()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            _registration.Dispose(); // pending waits end with ObjectDisposedException
            close(fd);
        }
        return ValueTask.CompletedTask;
    }
}
