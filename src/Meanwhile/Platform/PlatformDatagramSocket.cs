using System.Net;
using System.Net.Sockets;

namespace Meanwhile;

/// <summary>
/// The OS-specific half of a <see cref="DatagramSocket"/>: a non-blocking SOCK_DGRAM descriptor on epoll, a .NET
/// <see cref="Socket"/> on the portable reactor. One receive and one send may be in progress at a time;
/// <see cref="DatagramSocket"/> enforces that.
/// </summary>
internal abstract class PlatformDatagramSocket
{
    protected PlatformDatagramSocket(AddressFamily family) => Addresses = new DatagramAddresses(family);

    /// <summary>The sockaddr buffers and the last sender/destination, shared logic of both reactors.</summary>
    protected DatagramAddresses Addresses { get; }

    public AddressFamily Family => Addresses.Family;

    /// <summary>The bound address, read from the OS (null before the socket has one).</summary>
    public abstract IPEndPoint? LocalEndPoint { get; }

    public abstract void Bind(IPEndPoint endpoint);

    /// <summary>Fixes the peer: sends without an address go there, and only its datagrams are received.</summary>
    public abstract void Connect(IPEndPoint endpoint);

    /// <summary>Sends one datagram whole; <paramref name="to"/> null sends to the connected peer.</summary>
    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint? to, CancellationToken cancellationToken);

    /// <summary>Receives one datagram, cut to the buffer's length if longer.</summary>
    public abstract ValueTask<ReceivedDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Releases the socket; pending operations end with <see cref="ObjectDisposedException"/>.</summary>
    public abstract ValueTask CloseAsync();

    /// <summary>What the socket is ("udp 127.0.0.1:5000"), for error messages.</summary>
    public abstract string Description { get; }
}

/// <summary>
/// Addresses of datagrams in native sockaddr form (.NET's <see cref="SocketAddress"/> holds the OS layout).
/// Keeps the last sender and the last destination, so a conversation with one peer allocates no endpoint or
/// sockaddr per datagram: a server answering the same client, or a client talking to one server.
/// </summary>
internal sealed class DatagramAddresses
{
    private readonly IPEndPoint _template;
    private SocketAddress? _lastFromAddress;
    private IPEndPoint? _lastFrom;
    private IPEndPoint? _lastTo;
    private SocketAddress? _lastToAddress;

    public DatagramAddresses(AddressFamily family)
    {
        Family = family;
        _template = new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        Capacity = Math.Max(SocketAddress.GetMaximumAddressSize(family), 128); // 128: sizeof(struct sockaddr_storage)
        Received = new SocketAddress(family, Capacity);
    }

    public AddressFamily Family { get; }

    /// <summary>Room for any sender's address.</summary>
    public int Capacity { get; }

    /// <summary>Filled by each receive (the single receiver owns it); reset its Size to <see cref="Capacity"/> before.</summary>
    public SocketAddress Received { get; }

    /// <summary>The sender of the datagram just received, as an endpoint: the cached one if the bytes match.</summary>
    public IPEndPoint Sender()
    {
        // Compared by hand: SocketAddress.Equals also compares the unused tail of the receive buffer.
        if (_lastFrom is not null && _lastFromAddress!.Buffer.Span[.._lastFromAddress.Size].SequenceEqual(Received.Buffer.Span[..Received.Size]))
            return _lastFrom;
        var copy = new SocketAddress(Family, Received.Size);
        Received.Buffer.Span[..Received.Size].CopyTo(copy.Buffer.Span);
        _lastFrom = (IPEndPoint)_template.Create(copy);
        _lastFromAddress = copy;
        return _lastFrom;
    }

    /// <summary>The sockaddr of <paramref name="to"/>, reused while the destination stays the same.</summary>
    public SocketAddress Destination(IPEndPoint to)
    {
        if (_lastTo is not null && _lastTo.Equals(to)) return _lastToAddress!;
        // An IPv6 socket reaches IPv4 peers through v4-mapped addresses (IPV6_V6ONLY is off by default on Linux).
        var address = Family == AddressFamily.InterNetworkV6 && to.AddressFamily == AddressFamily.InterNetwork ? to.Address.MapToIPv6() : to.Address;
        _lastToAddress = new IPEndPoint(address, to.Port).Serialize();
        // A private copy: IPEndPoint and IPAddress are mutable, and a caller changing theirs must not fool the cache.
        _lastTo = new IPEndPoint(Copy(to.Address), to.Port);
        return _lastToAddress;
    }

    private static IPAddress Copy(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6
        ? new IPAddress(address.GetAddressBytes(), address.ScopeId)
        : new IPAddress(address.GetAddressBytes());
}
