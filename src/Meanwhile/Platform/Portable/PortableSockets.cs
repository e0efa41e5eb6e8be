using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>Connect and listen for the portable backend: non-blocking .NET sockets waited on by the <see cref="SelectPoller"/>.</summary>
internal static class PortableSockets
{
    public static async ValueTask<SocketStream> ConnectAsync(EventLoop loop, SelectPoller poller, EndPoint endpoint, SocketStreamOptions options,
        CancellationToken cancellationToken)
    {
        var socket = NewSocket(endpoint);
        PortableSocketStream? stream = null;
        try
        {
            Apply(socket, endpoint, options);
            stream = new PortableSocketStream(poller, socket);
            try
            {
                socket.Connect(endpoint);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.AlreadyInProgress)
            {
                // Non-blocking connect: writable means done, and SO_ERROR says how it went.
                await stream.WaitWritableAsync(cancellationToken);
                var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
                if (error != SocketError.Success) throw SystemErrors.From("connect", error, endpoint.ToString());
            }
            return new SocketStream(loop, stream);
        }
        catch (Exception e)
        {
            if (stream is not null) await stream.CloseAsync();
            else socket.Dispose();
            if (e is SocketException socketError) throw SystemErrors.From("connect", socketError, endpoint.ToString());
            throw;
        }
    }

    public static PlatformListener Listen(EventLoop loop, SelectPoller poller, EndPoint endpoint, ListenOptions options)
    {
        var socket = NewSocket(endpoint);
        try
        {
            if (endpoint.AddressFamily != AddressFamily.Unix)
            {
                // Raw options: on Linux, .NET's ReuseAddress sets SO_REUSEPORT as well, which would let a second
                // listener share the port silently instead of failing with EADDRINUSE.
                if (OperatingSystem.IsLinux())
                {
                    if (options.ReuseAddress) socket.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
                    if (options.ReusePort) socket.SetRawSocketOption(1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT */, BitConverter.GetBytes(1));
                }
                else socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, options.ReuseAddress || options.ReusePort);
            }
            socket.Bind(endpoint);
            socket.Listen(options.Backlog);
            return new PortableSocketListener(loop, poller, socket, options.Accepted);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw SystemErrors.From(e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "bind" : "listen", e, endpoint.ToString());
        }
    }

    private static Socket NewSocket(EndPoint endpoint) =>
        new(endpoint.AddressFamily, SocketType.Stream, endpoint.AddressFamily == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp);

    public static void Apply(Socket socket, EndPoint? endpoint, SocketStreamOptions options)
    {
        if (socket.AddressFamily == AddressFamily.Unix) return;
        socket.NoDelay = options.NoDelay;
        if (!options.KeepAlive) return;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        if (options.KeepAliveIdle is { } idle) socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)Math.Ceiling(idle.TotalSeconds));
        if (options.KeepAliveInterval is { } interval) socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)Math.Ceiling(interval.TotalSeconds));
        if (options.KeepAliveProbes is { } probes) socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, probes);
    }

    /// <summary>A listening socket of the portable backend.</summary>
    private sealed class PortableSocketListener : PlatformListener
    {
        private readonly EventLoop _loop;
        private readonly SelectPoller _poller;
        private readonly Socket _socket;
        private readonly SocketStreamOptions _accepted;
        private readonly IoRegistration _registration;
        private bool _closed;

        public PortableSocketListener(EventLoop loop, SelectPoller poller, Socket socket, SocketStreamOptions accepted)
        {
            _loop = loop;
            _poller = poller;
            _socket = socket;
            _accepted = accepted;
            LocalEndPoint = socket.LocalEndPoint!;
            socket.Blocking = false;
            _registration = poller.Register(socket);
        }

        public override EndPoint LocalEndPoint { get; }

        public override ValueTask<SocketStream> AcceptAsync(CancellationToken cancellationToken) =>
            TryAccept() is { } accepted ? new(accepted) : AcceptSlowAsync(cancellationToken);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<SocketStream> AcceptSlowAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                await _registration.WaitReadableAsync(cancellationToken);
                if (TryAccept() is { } accepted) return accepted;
            }
        }

        /// <summary>Accepts one pending connection, or returns null when none is pending.</summary>
        private SocketStream? TryAccept()
        {
            if (_closed) throw new ObjectDisposedException($"listener {LocalEndPoint}");
            // A poll first, so that an empty backlog costs a system call rather than an exception.
            while (_socket.Poll(0, SelectMode.SelectRead))
            {
                Socket client;
                try
                {
                    client = _socket.Accept();
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.ConnectionAborted or SocketError.ConnectionReset)
                {
                    continue; // the client gave up between the poll and the accept: not the listener's failure
                }
                catch (SocketException e)
                {
                    throw SystemErrors.From("accept", e, LocalEndPoint.ToString());
                }
                try
                {
                    Apply(client, LocalEndPoint, _accepted);
                    return new SocketStream(_loop, new PortableSocketStream(_poller, client));
                }
                catch
                {
                    client.Dispose();
                    throw;
                }
            }
            return null;
        }

        public override ValueTask CloseAsync()
        {
            if (_closed) return ValueTask.CompletedTask;
            _closed = true;
            _registration.Dispose();
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
