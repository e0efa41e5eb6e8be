using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A UDP socket for the portable reactor: a .NET <see cref="Socket"/> and its async datagram calls, with the
/// SocketAddress overloads so that a steady conversation allocates no endpoint per datagram.
/// </summary>
internal sealed class PortableDatagramSocket : PlatformDatagramSocket
{
    private readonly EventLoop _loop;
    private readonly Socket _socket;
    private IPEndPoint? _remote;
    private bool _closed;

    /// <summary>
    /// MSG_TRUNC on Linux: the receive returns the datagram's real length, so a cut datagram can be flagged as on the
    /// epoll path. Other systems do not take it as an input flag; there .NET reports a cut datagram as MessageSize.
    /// </summary>
    private static readonly SocketFlags TruncatedLength = OperatingSystem.IsLinux() ? SocketFlags.Truncated : SocketFlags.None;

    public PortableDatagramSocket(EventLoop loop, AddressFamily family) : base(family)
    {
        _loop = loop;
        _socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        // Like the epoll path: an IPv6 socket also reaches IPv4 peers (.NET turns dual mode off by default).
        if (family == AddressFamily.InterNetworkV6) _socket.DualMode = true;
    }

    public override IPEndPoint? LocalEndPoint => _closed ? null : _socket.LocalEndPoint as IPEndPoint;

    public override string Description => _closed ? "udp (closed)" : $"udp {LocalEndPoint?.ToString() ?? "(unbound)"}{(_remote is null ? "" : $" -> {_remote}")}";

    public override void Bind(IPEndPoint endpoint)
    {
        try { _socket.Bind(endpoint); }
        catch (SocketException e) { throw SystemErrors.From("bind", e, $"udp {endpoint}"); }
    }

    public override void Connect(IPEndPoint endpoint)
    {
        try { _socket.Connect(endpoint); }
        catch (SocketException e) { throw SystemErrors.From("connect", e, $"{Description} -> {endpoint}"); }
        _remote = endpoint;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint? to, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed, Description);
        var address = to is null ? null : Addresses.Destination(to);
        using var wait = PortableWait.Begin(_loop, cancellationToken, out var token);
        try
        {
            if (address is null) await _socket.SendAsync(datagram, SocketFlags.None, token);
            else await _socket.SendToAsync(datagram, SocketFlags.None, address, token);
        }
        catch (SocketException) when (_closed) { throw new ObjectDisposedException(Description); }
        catch (SocketException e) { throw SystemErrors.From(to is null ? "send" : "sendto", e, to is null ? Description : $"{Description} -> {to}"); }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(Description); }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<ReceivedDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed, Description);
        var from = Addresses.Received;
        from.Size = Addresses.Capacity;
        using var wait = PortableWait.Begin(_loop, cancellationToken, out var token);
        try
        {
            int n = await _socket.ReceiveFromAsync(buffer, TruncatedLength, from, token);
            return new ReceivedDatagram(Math.Min(n, buffer.Length), Addresses.Sender(), n > buffer.Length);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
        {
            // .NET reports a datagram longer than the buffer as an error after filling the buffer; the kernel
            // discarded the rest, as on the epoll path, so it is a truncated datagram, not a failure.
            return new ReceivedDatagram(buffer.Length, Addresses.Sender(), true);
        }
        catch (SocketException) when (_closed) { throw new ObjectDisposedException(Description); }
        catch (SocketException e) { throw SystemErrors.From("recvfrom", e, Description); }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(Description); }
    }

    public override ValueTask CloseAsync()
    {
        _closed = true;
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
