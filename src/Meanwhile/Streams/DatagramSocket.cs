using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A UDP socket on the loop: datagrams to and from any peer (<see cref="SendToAsync"/>, <see cref="ReceiveFromAsync"/>),
/// or, after <see cref="Connect"/>, to and from one peer (<see cref="SendAsync"/>, <see cref="ReceiveAsync"/>).
/// IPv4 or IPv6; an IPv6 socket also reaches IPv4 peers (through v4-mapped addresses).
/// </summary>
/// <remarks>
/// <para>A datagram is sent whole or not at all. A datagram longer than the receive buffer is cut to the buffer's
/// length and the rest is lost (the kernel discards it): <see cref="ReceivedDatagram.Truncated"/> says so. Give a
/// buffer of 65,507 bytes (IPv4's largest UDP payload) to never lose any.</para>
/// <para>Connected mode also makes the kernel report ICMP errors: after a datagram to a closed port, the next send or
/// receive fails with <see cref="ConnectionRefusedException"/>. An unconnected socket never sees them.</para>
/// <para>One receive and one send may be in progress at a time. Use it from the loop thread. Receiving from the same
/// peer as last time allocates nothing once warm (the sender's endpoint is cached).</para>
/// </remarks>
public sealed class DatagramSocket : IAsyncDisposable, IDisposable
{
    private readonly PlatformDatagramSocket _platform;
    private IPEndPoint? _remote;
    private bool _hasLocalAddress;
    private bool _receiving;
    private bool _sending;
    private int _closed;

    private DatagramSocket(EventLoop loop, PlatformDatagramSocket platform)
    {
        Loop = loop;
        _platform = platform;
    }

    /// <summary>The loop this socket belongs to.</summary>
    public EventLoop Loop { get; }

    /// <summary><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>.</summary>
    public AddressFamily AddressFamily => _platform.Family;

    /// <summary>This side's address (with the real port when port 0 was asked for); null before it has one.</summary>
    public IPEndPoint? LocalEndPoint => _platform.LocalEndPoint;

    /// <summary>The peer given to <see cref="Connect"/>, or null.</summary>
    public IPEndPoint? RemoteEndPoint => _remote;

    /// <summary>What the socket is, in words ("udp 127.0.0.1:5000 -> 127.0.0.1:6000").</summary>
    public string Description => _platform.Description;

    /// <summary>Whether <see cref="DisposeAsync"/> has been called.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Opens a UDP socket bound to <paramref name="endpoint"/> (port 0: any free port).</summary>
    /// <param name="endpoint">Local address and port.</param>
    /// <exception cref="AddressInUseException">Another socket has that port.</exception>
    public static DatagramSocket Bind(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var socket = Open(endpoint.AddressFamily);
        try
        {
            socket._platform.Bind(endpoint);
            socket._hasLocalAddress = true;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Opens an unbound UDP socket; the kernel gives it a free port at the first send or <see cref="Connect"/>.</summary>
    /// <param name="family"><see cref="AddressFamily.InterNetwork"/> or <see cref="AddressFamily.InterNetworkV6"/>.</param>
    public static DatagramSocket Open(AddressFamily family = AddressFamily.InterNetwork)
    {
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException($"A UDP socket is IPv4 or IPv6, not {family}.", nameof(family));
        var loop = EventLoop.Current;
        loop.CheckThread();
        return new DatagramSocket(loop, loop.Platform.OpenDatagram(family));
    }

    /// <summary>
    /// Fixes the peer: <see cref="SendAsync"/> sends there, only its datagrams are received, and ICMP errors about it
    /// are reported. No packet is sent (UDP has no handshake), so this completes at once.
    /// </summary>
    /// <param name="remote">The peer, an <see cref="IPEndPoint"/>.</param>
    public void Connect(EndPoint remote)
    {
        CheckUsable();
        var endpoint = CheckDestination(remote, nameof(remote));
        _platform.Connect(endpoint);
        _remote = endpoint;
        _hasLocalAddress = true;
    }

    /// <summary>Sends <paramref name="datagram"/> to <paramref name="to"/>, whole.</summary>
    /// <param name="datagram">The payload (at most 65,507 bytes over IPv4).</param>
    /// <param name="to">The destination, an <see cref="IPEndPoint"/>.</param>
    /// <param name="cancellationToken">Ends a wait for room in the send buffer.</param>
    /// <exception cref="SystemCallException">EMSGSIZE for a datagram too large, or an error the kernel reports.</exception>
    public ValueTask SendToAsync(ReadOnlyMemory<byte> datagram, EndPoint to, CancellationToken cancellationToken = default)
    {
        CheckUsable();
        return Send(datagram, CheckDestination(to, nameof(to)), cancellationToken);
    }

    /// <summary>Sends <paramref name="datagram"/> to the connected peer, whole.</summary>
    /// <param name="datagram">The payload.</param>
    /// <param name="cancellationToken">Ends a wait for room in the send buffer.</param>
    /// <exception cref="ConnectionRefusedException">An earlier datagram met a closed port (ICMP port unreachable).</exception>
    /// <exception cref="InvalidOperationException">The socket is not connected.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken = default)
    {
        CheckUsable();
        if (_remote is null) throw new InvalidOperationException($"{Description} is not connected: call Connect first, or use SendToAsync.");
        return Send(datagram, null, cancellationToken);
    }

    private ValueTask Send(ReadOnlyMemory<byte> datagram, IPEndPoint? to, CancellationToken cancellationToken)
    {
        if (_sending) throw new InvalidOperationException($"A send is already in progress on {Description}; one sender at a time.");
        _hasLocalAddress = true; // the kernel binds an unbound socket at its first send
        var pending = _platform.SendAsync(datagram, to, cancellationToken);
        return pending.IsCompletedSuccessfully ? pending : TrackSend(pending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask TrackSend(ValueTask pending)
    {
        _sending = true;
        try { await pending; }
        finally { _sending = false; }
    }

    /// <summary>Receives the next datagram into <paramref name="buffer"/>, with its sender.</summary>
    /// <param name="buffer">Where to put it; a longer datagram is cut (see <see cref="ReceivedDatagram.Truncated"/>).</param>
    /// <param name="cancellationToken">Ends the wait early; so does cancelling the calling task.</param>
    /// <exception cref="ConnectionRefusedException">Connected, and an earlier datagram met a closed port.</exception>
    /// <exception cref="InvalidOperationException">The socket has no address yet (not bound, connected, nor used to send).</exception>
    public ValueTask<ReceivedDatagram> ReceiveFromAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckUsable();
        if (_receiving) throw new InvalidOperationException($"A receive is already in progress on {Description}; one receiver at a time.");
        // Nothing can reach a socket without a port; waiting would hang forever (and .NET's sockets refuse it).
        if (!_hasLocalAddress) throw new InvalidOperationException($"{Description} has no local address to receive on: Bind, Connect or send first.");
        var pending = _platform.ReceiveAsync(buffer, cancellationToken);
        return pending.IsCompletedSuccessfully ? pending : TrackReceive(pending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReceivedDatagram> TrackReceive(ValueTask<ReceivedDatagram> pending)
    {
        _receiving = true;
        try { return await pending; }
        finally { _receiving = false; }
    }

    /// <summary>Receives the next datagram from the connected peer; returns its length (cut to the buffer's).</summary>
    /// <param name="buffer">Where to put it.</param>
    /// <param name="cancellationToken">Ends the wait early; so does cancelling the calling task.</param>
    /// <exception cref="ConnectionRefusedException">An earlier datagram met a closed port (ICMP port unreachable).</exception>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckUsable();
        if (_remote is null) throw new InvalidOperationException($"{Description} is not connected: call Connect first, or use ReceiveFromAsync.");
        var pending = ReceiveFromAsync(buffer, cancellationToken);
        return pending.IsCompletedSuccessfully ? new ValueTask<int>(pending.Result.Length) : LengthOf(pending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> LengthOf(ValueTask<ReceivedDatagram> pending) => (await pending).Length;

    private IPEndPoint CheckDestination(EndPoint endpoint, string parameter)
    {
        ArgumentNullException.ThrowIfNull(endpoint, parameter);
        if (endpoint is not IPEndPoint ip)
            throw new ArgumentException($"A UDP destination is an IPEndPoint, not {endpoint.GetType().Name}; resolve names first.", parameter);
        if (ip.AddressFamily == AddressFamily.InterNetworkV6 && AddressFamily == AddressFamily.InterNetwork)
            throw new ArgumentException($"{Description} is IPv4 and cannot reach the IPv6 address {ip}; open an IPv6 socket.", parameter);
        return ip;
    }

    /// <summary>Closes the socket; a pending receive or send ends with <see cref="ObjectDisposedException"/>. Safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        await _platform.CloseAsync();
    }

    /// <summary>Closes the socket (see <see cref="DisposeAsync"/>).</summary>
    public void Dispose()
    {
        var pending = DisposeAsync();
        if (!pending.IsCompleted) pending.AsTask().GetAwaiter().GetResult();
    }

    private void CheckUsable()
    {
        Loop.CheckThread();
        if (Volatile.Read(ref _closed) != 0) throw new ObjectDisposedException(Description, $"{Description} is closed.");
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}
