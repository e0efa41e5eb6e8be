using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using static Meanwhile.LinuxNative;

namespace Meanwhile;

/// <summary>A connected stream socket on the epoll path: a <see cref="PolledDescriptorStream"/> that knows its endpoints.</summary>
internal sealed class PolledSocketStream : PolledDescriptorStream, IConnectedSocket
{
    private EndPoint? _local;
    private EndPoint? _remote;

    public PolledSocketStream(EventLoop loop, int fd, EndPoint? remote = null) : base(loop, fd, DescriptorKind.Socket, null)
    {
        _remote = remote;
    }

    // Endpoints are read from the kernel when first asked for: an idle connection keeps no strings or objects for them.
    public EndPoint? LocalEndPoint => _local ??= Descriptor >= 0 ? SocketAddresses.Local(Descriptor) : null;

    public EndPoint? RemoteEndPoint => _remote ??= Descriptor >= 0 ? SocketAddresses.Remote(Descriptor) : null;

    public override string Description => $"{(LocalEndPoint?.AddressFamily == AddressFamily.Unix ? "unix" : "tcp")} {LocalEndPoint} <-> {RemoteEndPoint}";
}

/// <summary>Socket set-up on the epoll path: connect, listen, accept, with raw non-blocking system calls.</summary>
internal static class LinuxSockets
{
    public static async ValueTask<SocketStream> ConnectAsync(EventLoop loop, EndPoint endpoint, SocketStreamOptions options, CancellationToken cancellationToken)
    {
        int fd = Open(endpoint, "connect");
        PolledSocketStream? transport = null;
        try
        {
            ApplyOptions(fd, endpoint, options);
            int result = Connect(fd, endpoint);
            int errno = result < 0 ? LastErrno : 0;
            if (result < 0 && errno != Errno.EINPROGRESS)
                throw SystemErrors.From("connect", errno, endpoint.ToString());
            transport = new PolledSocketStream(loop, fd, endpoint);
            if (result < 0)
            {
                // Non-blocking connect: writable means done, and SO_ERROR says how it went.
                await transport.WaitWritableAsync(cancellationToken);
                int error = PendingError(fd);
                if (error != 0) throw SystemErrors.From("connect", error, endpoint.ToString());
            }
            return new SocketStream(loop, transport);
        }
        catch
        {
            if (transport is not null) await transport.CloseAsync();
            else close(fd);
            throw;
        }
    }

    private static unsafe int PendingError(int fd)
    {
        int error = 0;
        uint length = sizeof(int);
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0 ? LastErrno : error;
    }

    private static unsafe int Connect(int fd, EndPoint endpoint)
    {
        var address = endpoint.Serialize();
        fixed (byte* p = address.Buffer.Span)
        {
            while (true)
            {
                int result = connect(fd, p, (uint)address.Size);
                if (result == 0 || LastErrno != Errno.EINTR) return result;
            }
        }
    }

    private static int Open(EndPoint endpoint, string purpose)
    {
        int fd = socket(SocketAddresses.FamilyOf(endpoint), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) throw SystemErrors.From("socket", LastErrno, $"{purpose} {endpoint}");
        return fd;
    }

    public static void ApplyOptions(int fd, EndPoint? endpoint, SocketStreamOptions options)
    {
        if (endpoint is not null && endpoint.AddressFamily == AddressFamily.Unix) return; // TCP options only
        Check(SetOption(fd, IPPROTO_TCP, TCP_NODELAY, options.NoDelay ? 1 : 0), "setsockopt TCP_NODELAY", endpoint);
        if (!options.KeepAlive) return;
        Check(SetOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1), "setsockopt SO_KEEPALIVE", endpoint);
        if (options.KeepAliveIdle is { } idle) Check(SetOption(fd, IPPROTO_TCP, TCP_KEEPIDLE, Seconds(idle)), "setsockopt TCP_KEEPIDLE", endpoint);
        if (options.KeepAliveInterval is { } interval) Check(SetOption(fd, IPPROTO_TCP, TCP_KEEPINTVL, Seconds(interval)), "setsockopt TCP_KEEPINTVL", endpoint);
        if (options.KeepAliveProbes is { } probes) Check(SetOption(fd, IPPROTO_TCP, TCP_KEEPCNT, probes), "setsockopt TCP_KEEPCNT", endpoint);
    }

    private static int Seconds(TimeSpan time) => Math.Max(1, (int)Math.Ceiling(time.TotalSeconds));

    private static void Check(int result, string call, EndPoint? endpoint)
    {
        if (result < 0) throw SystemErrors.From(call, LastErrno, endpoint?.ToString());
    }

    public static unsafe PolledListener Listen(EventLoop loop, EndPoint endpoint, ListenOptions options)
    {
        int fd = Open(endpoint, "listen on");
        try
        {
            bool unix = endpoint.AddressFamily == AddressFamily.Unix;
            if (!unix)
            {
                if (options.ReuseAddress) Check(SetOption(fd, SOL_SOCKET, SO_REUSEADDR, 1), "setsockopt SO_REUSEADDR", endpoint);
                if (options.ReusePort) Check(SetOption(fd, SOL_SOCKET, SO_REUSEPORT, 1), "setsockopt SO_REUSEPORT", endpoint);
            }
            var address = endpoint.Serialize();
            fixed (byte* p = address.Buffer.Span)
                Check(bind(fd, p, (uint)address.Size), "bind", endpoint);
            Check(listen(fd, options.Backlog), "listen", endpoint);
            return new PolledListener(loop, fd, SocketAddresses.Local(fd) ?? endpoint, options.Accepted);
        }
        catch
        {
            close(fd);
            throw;
        }
    }
}

/// <summary>A listening socket on the epoll path.</summary>
internal sealed class PolledListener : PlatformListener
{
    private readonly EventLoop _loop;
    private readonly SocketStreamOptions _accepted;
    private readonly IoRegistration _registration;
    private int _fd;

    public PolledListener(EventLoop loop, int fd, EndPoint localEndPoint, SocketStreamOptions accepted)
    {
        _loop = loop;
        _fd = fd;
        _accepted = accepted;
        LocalEndPoint = localEndPoint;
        _registration = loop.Register(fd);
    }

    public override EndPoint LocalEndPoint { get; }

    public override ValueTask<SocketStream> AcceptAsync(CancellationToken cancellationToken)
    {
        var accepted = TryAccept();
        return accepted is not null ? new(accepted) : AcceptSlowAsync(cancellationToken);
    }

    // Pooled: a server whose clients arrive one at a time waits in every accept, and would otherwise leave an async
    // state-machine box behind per connection.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SocketStream> AcceptSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _registration.WaitReadableAsync(cancellationToken);
            if (TryAccept() is { } accepted) return accepted;
        }
    }

    /// <summary>Accepts one pending connection, or returns null on EAGAIN; throws other errors.</summary>
    private unsafe SocketStream? TryAccept()
    {
        if (_fd < 0) throw new ObjectDisposedException($"listener {LocalEndPoint}");
        while (true)
        {
            int fd = accept4(_fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0)
            {
                try
                {
                    LinuxSockets.ApplyOptions(fd, LocalEndPoint, _accepted);
                    var transport = new PolledSocketStream(_loop, fd);
                    return new SocketStream(_loop, transport);
                }
                catch
                {
                    close(fd);
                    throw;
                }
            }
            int errno = LastErrno;
            switch (errno)
            {
                case Errno.EAGAIN: return null;
                case Errno.EINTR: continue;
                // The client gave up between SYN and accept: not the listener's failure.
                case Errno.ECONNABORTED: continue;
                default: throw SystemErrors.From("accept4", errno, LocalEndPoint.ToString());
            }
        }
    }

    public override ValueTask CloseAsync()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            _registration.Dispose();
            close(fd);
        }
        return ValueTask.CompletedTask;
    }
}
