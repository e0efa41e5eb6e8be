using System.Net;
using System.Net.Sockets;

namespace Meanwhile;

/// <summary>
/// The portable backend's poller: the loop thread itself waits in select (<c>Socket.Select</c>) on the sockets that have
/// a task waiting, and a UDP socket that <see cref="Wake"/> sends a byte to (asyncio's <c>SelectSelector</c> and its
/// self-pipe). Every completion is seen on the loop thread: nothing waits for a thread-pool thread, so a process whose
/// pool is starved (sync-over-async, blocking work items) still gets its I/O on time. .NET's own async sockets hand
/// each completion to the pool on Linux and macOS, which is why they are not used here.
/// </summary>
/// <remarks>
/// Select is level-triggered, and a socket is in the sets only while a task waits on it in that direction: a waiting
/// task has just seen its operation would block, so a level is exactly the edge it waits for, and a socket nobody waits
/// on can never keep the loop spinning. The cost is linear in the waiting sockets, fine for a fallback, not for ten
/// thousand idle connections (the epoll backend's job).
/// </remarks>
internal sealed class SelectPoller : Poller
{
    private readonly EventLoop _loop;
    private readonly List<Socket> _sockets = new();
    private readonly List<IoRegistration> _registrations = new();
    private readonly Dictionary<Socket, IoRegistration> _bySocket = new(ReferenceEqualityComparer.Instance);
    private readonly List<Socket> _readable = new();
    private readonly List<Socket> _writable = new();
    private readonly List<Socket> _failed = new();
    private readonly Socket _wakeReceiver;
    private readonly Socket _wakeSender;
    private readonly byte[] _drain = new byte[64];
    private int _disposed;

    public SelectPoller(EventLoop loop)
    {
        _loop = loop;
        (_wakeReceiver, _wakeSender) = OpenWakePair();
    }

    private static (Socket Receiver, Socket Sender) OpenWakePair()
    {
        var family = Socket.OSSupportsIPv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        var loopback = family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback;
        var receiver = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        var sender = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            receiver.Bind(new IPEndPoint(loopback, 0));
            receiver.Blocking = false;
            sender.Blocking = false;
            sender.Connect(receiver.LocalEndPoint!);
            return (receiver, sender);
        }
        catch
        {
            receiver.Dispose();
            sender.Dispose();
            throw;
        }
    }

    /// <summary>Watches <paramref name="socket"/> (set non-blocking) until the registration is disposed.</summary>
    public IoRegistration Register(Socket socket)
    {
        // The descriptor number only names the wait in introspection and messages.
        var registration = new IoRegistration(_loop, unchecked((int)socket.Handle)) { Token = (ulong)_registrations.Count };
        _registrations.Add(registration);
        _sockets.Add(socket);
        _bySocket.Add(socket, registration);
        return registration;
    }

    internal override void Deregister(IoRegistration registration, bool descriptorClosing)
    {
        int index = (int)registration.Token;
        if (index >= _registrations.Count || !ReferenceEquals(_registrations[index], registration)) return;
        _bySocket.Remove(_sockets[index]);
        int last = _registrations.Count - 1;
        if (index != last)
        {
            // Swap with the last, so removal is O(1); the moved registration learns its new place.
            _registrations[index] = _registrations[last];
            _sockets[index] = _sockets[last];
            _registrations[index].Token = (ulong)index;
        }
        _registrations.RemoveAt(last);
        _sockets.RemoveAt(last);
    }

    public override int? RegistrationCount => _registrations.Count;

    public override bool HasSources => _registrations.Count != 0;

    /// <summary>Names a watched socket as the epoll backend names its descriptors ("tcp 127.0.0.1:8080 &lt;-&gt; 127.0.0.1:50412").</summary>
    public override string? DescribeDescriptor(int descriptor)
    {
        foreach (var socket in _sockets)
        {
            if (unchecked((int)socket.Handle) != descriptor) continue;
            try
            {
                string kind = socket.AddressFamily == AddressFamily.Unix ? "unix" : socket.SocketType == SocketType.Dgram ? "udp" : "tcp";
                string local = socket.LocalEndPoint?.ToString() ?? "?";
                if (socket.IsBound && socket.SocketType == SocketType.Stream && !socket.Connected && socket.RemoteEndPoint is null)
                    return $"{kind} {local} (listening)";
                return socket.RemoteEndPoint is { } remote ? $"{kind} {local} <-> {remote}" : $"{kind} {local}";
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return null; // closed under us: nothing to name
            }
        }
        return null;
    }

    public override void Poll(int timeoutMilliseconds)
    {
        _readable.Clear();
        _writable.Clear();
        _failed.Clear();
        _readable.Add(_wakeReceiver);
        for (int i = 0; i < _registrations.Count; i++)
        {
            var registration = _registrations[i];
            bool reading = registration.IsWaitingReadable, writing = registration.IsWaitingWritable;
            if (reading) _readable.Add(_sockets[i]);
            if (writing) _writable.Add(_sockets[i]);
            // A pending error may show only in the error set: a failed connect, an ICMP error on a connected UDP socket.
            // A stream socket waiting to read needs no entry there (a reset or hang-up reads as readable), and leaving
            // it out keeps an idle server's poll set at one entry a connection: poll refuses more entries than the
            // process may open descriptors (EINVAL), and .NET's Select gives each set its own entries.
            if (writing || (reading && _sockets[i].SocketType != SocketType.Stream)) _failed.Add(_sockets[i]);
        }
        long microseconds = timeoutMilliseconds < 0 ? -1 : Math.Min((long)timeoutMilliseconds * 1000, int.MaxValue);
        try
        {
            Socket.Select(_readable, _writable.Count > 0 ? _writable : null, _failed.Count > 0 ? _failed : null, (int)microseconds);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.Interrupted)
        {
            return; // a signal: the loop goes round again
        }
        foreach (var socket in _readable)
        {
            if (ReferenceEquals(socket, _wakeReceiver)) DrainWakes();
            else if (_bySocket.TryGetValue(socket, out var registration)) registration.OnReady(readable: true, writable: false);
        }
        foreach (var socket in _writable)
            if (_bySocket.TryGetValue(socket, out var registration)) registration.OnReady(readable: false, writable: true);
        foreach (var socket in _failed)
            if (_bySocket.TryGetValue(socket, out var registration)) registration.OnReady(readable: true, writable: true);
    }

    // Until it would block (0 with SocketError.WouldBlock): every wake-up sent so far is consumed.
    private void DrainWakes()
    {
        while (_wakeReceiver.Receive(_drain, SocketFlags.None, out _) > 0) { }
    }

    /// <remarks>The loop already sends one wake-up per batch of posts, so this sends whenever it is asked.</remarks>
    public override void Wake()
    {
        if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(SelectPoller));
        // WouldBlock: the receiver's buffer is full of wake-ups, so the loop is certainly going to wake.
        _wakeSender.Send([1], SocketFlags.None, out _);
    }

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _wakeSender.Dispose();
        _wakeReceiver.Dispose();
    }
}
