using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A stream over a .NET <see cref="Socket"/> for the portable reactor. The socket engine completes operations on
/// its own threads; awaiting them from loop code brings the continuation back through the loop's
/// SynchronizationContext. While an operation is pending it counts as a wait on the outside world.
/// </summary>
internal sealed class PortableSocketStream(EventLoop loop, Socket socket) : PlatformStream, IConnectedSocket
{
    private string? _description;
    private volatile bool _closed;

    public EndPoint? LocalEndPoint => socket.LocalEndPoint;

    public EndPoint? RemoteEndPoint => socket.AddressFamily == AddressFamily.Unix && socket.RemoteEndPoint is UnixDomainSocketEndPoint { } u && u.ToString() is "" ? null : socket.RemoteEndPoint;

    public override string Description => _description ??= Describe();

    // Asked for in error messages, also once the socket is closed, when a .NET Socket no longer tells its addresses:
    // describing a closed stream must not throw in place of the error being reported.
    private string Describe()
    {
        string kind = socket.AddressFamily == AddressFamily.Unix ? "unix" : "tcp";
        try { return $"{kind} {socket.LocalEndPoint} <-> {socket.RemoteEndPoint}"; }
        catch (ObjectDisposedException) { return $"{kind} socket (closed)"; }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        using var wait = PortableWait.Begin(loop, cancellationToken, out var token);
        try
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None, token);
        }
        // Closing the socket under a pending operation aborts it (ECANCELED): report the close, not the abort.
        catch (SocketException) when (_closed) { throw new ObjectDisposedException(Description); }
        catch (SocketException e) { throw SystemErrors.From("recv", e, Description); }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(Description); }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var wait = PortableWait.Begin(loop, cancellationToken, out var token);
        try
        {
            while (!data.IsEmpty)
            {
                int sent = await socket.SendAsync(data, SocketFlags.None, token);
                data = data[sent..];
            }
        }
        catch (SocketException) when (_closed) { throw new ObjectDisposedException(Description); }
        catch (SocketException e) { throw SystemErrors.From("send", e, Description); }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(Description); }
    }

    public override void ShutdownWrite()
    {
        try { socket.Shutdown(SocketShutdown.Send); }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NotConnected) { }
        catch (SocketException e) { throw SystemErrors.From("shutdown", e, Description); }
    }

    public override ValueTask CloseAsync()
    {
        _closed = true;
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A pending operation of the portable reactor, as the loop sees it: counted as a wait on the outside world (so a
/// virtual clock does not jump over it), recorded, shown in introspection when it is a socket's (as epoll's waits
/// show the descriptor), and cancelled with the calling task.
/// </summary>
internal readonly struct PortableWait : IDisposable
{
    private readonly EventLoop _loop;
    private readonly LoopTask? _owner;
    private readonly CancellationTokenSource? _linked;

    private PortableWait(EventLoop loop, LoopTask? owner, CancellationTokenSource? linked)
    {
        _loop = loop;
        _owner = owner;
        _linked = linked;
    }

    /// <summary>Starts tracking an operation of the calling task.</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <param name="token">The token to give the operation: the caller's, joined with its task's.</param>
    /// <param name="isSocket">Whether the task waits on a socket, and shows so in <see cref="EventLoop.GetTasks"/>.</param>
    public static PortableWait Begin(EventLoop loop, CancellationToken cancellationToken, out CancellationToken token, bool isSocket = true)
    {
        var owner = LoopTask.CurrentOn(loop);
        CancellationTokenSource? linked = null;
        token = cancellationToken;
        if (owner is not null)
        {
            // The calling task's cancellation must reach the socket operation too.
            if (cancellationToken.CanBeCanceled)
            {
                linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, owner.Token);
                token = linked.Token;
            }
            else token = owner.Token;
            if (isSocket) owner.CurrentWait = SocketOperation.Instance;
        }
        loop.ExternalWaits++;
        loop.Recorder.Record(LoopEventKind.WaitStarted, owner, new WaitReason(WaitKind.Socket));
        return new PortableWait(loop, owner, linked);
    }

    public void Dispose()
    {
        _loop.ExternalWaits--;
        _loop.Recorder.Record(LoopEventKind.WaitEnded, _owner, new WaitReason(WaitKind.Socket));
        if (_owner is not null && _owner.CurrentWait == SocketOperation.Instance) _owner.CurrentWait = null;
        _linked?.Dispose();
    }

    /// <summary>What a task in a socket operation waits on, for introspection; one object serves every such wait.</summary>
    private sealed class SocketOperation : ITaskWait
    {
        public static readonly SocketOperation Instance = new();

        public WaitReason Reason => new(WaitKind.Socket);

        // The operation already listens to the task's token (Begin joins it in): nothing more to interrupt here.
        public void CancelFromOwner(LoopTask owner) { }
    }
}

/// <summary>Connect and listen for the portable reactor.</summary>
internal static class PortableSockets
{
    public static async ValueTask<SocketStream> ConnectAsync(EventLoop loop, EndPoint endpoint, SocketStreamOptions options, CancellationToken cancellationToken)
    {
        var socket = NewSocket(endpoint);
        try
        {
            Apply(socket, endpoint, options);
            using (PortableWait.Begin(loop, cancellationToken, out var token))
                await socket.ConnectAsync(endpoint, token);
            var transport = new PortableSocketStream(loop, socket);
            return new SocketStream(loop, transport);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw SystemErrors.From("connect", e, endpoint.ToString());
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static PlatformListener Listen(EventLoop loop, EndPoint endpoint, ListenOptions options)
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
            return new PortableSocketListener(loop, socket, options.Accepted);
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

    private sealed class PortableSocketListener(EventLoop loop, Socket socket, SocketStreamOptions accepted) : PlatformListener
    {
        public override EndPoint LocalEndPoint { get; } = socket.LocalEndPoint!;

        public override async ValueTask<SocketStream> AcceptAsync(CancellationToken cancellationToken)
        {
            Socket client;
            using (PortableWait.Begin(loop, cancellationToken, out var token))
            {
                try { client = await socket.AcceptAsync(token); }
                catch (SocketException e) { throw SystemErrors.From("accept", e, LocalEndPoint.ToString()); }
                catch (ObjectDisposedException) { throw new ObjectDisposedException($"listener {LocalEndPoint}"); }
            }
            Apply(client, LocalEndPoint, accepted);
            var transport = new PortableSocketStream(loop, client);
            return new SocketStream(loop, transport);
        }

        public override ValueTask CloseAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
