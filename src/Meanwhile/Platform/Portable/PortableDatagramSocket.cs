using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A UDP socket of the portable backend: a non-blocking .NET <see cref="Socket"/> waited on by the
/// <see cref="SelectPoller"/>, with the SocketAddress overloads so that a steady conversation allocates no endpoint per
/// datagram.
/// </summary>
internal sealed class PortableDatagramSocket : PlatformDatagramSocket
{
    private readonly Socket _socket;
    private readonly IoRegistration _registration;
    private IPEndPoint? _remote;
    private bool _closed;

    /// <summary>
    /// MSG_TRUNC on Linux: the receive returns the datagram's real length, so a cut datagram can be flagged as on the
    /// epoll path. Other systems do not take it as an input flag; there .NET reports a cut datagram as MessageSize.
    /// </summary>
    private static readonly SocketFlags TruncatedLength = OperatingSystem.IsLinux() ? SocketFlags.Truncated : SocketFlags.None;

    public PortableDatagramSocket(SelectPoller poller, AddressFamily family) : base(family)
    {
        _socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        // Like the epoll path: an IPv6 socket also reaches IPv4 peers (.NET turns dual mode off by default).
        if (family == AddressFamily.InterNetworkV6) _socket.DualMode = true;
        _socket.Blocking = false;
        _registration = poller.Register(_socket);
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

    public override ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint? to, CancellationToken cancellationToken)
    {
        if (_closed) return ValueTask.FromException(new ObjectDisposedException(Description));
        var address = to is null ? null : Addresses.Destination(to);
        try
        {
            if (TrySend(datagram.Span, address)) return ValueTask.CompletedTask;
        }
        catch (SocketException e)
        {
            return ValueTask.FromException(SendError(e, to));
        }
        return SendSlowAsync(datagram, to, address, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendSlowAsync(ReadOnlyMemory<byte> datagram, IPEndPoint? to, SocketAddress? address, CancellationToken cancellationToken)
    {
        // The send buffer is full: wait for room (backpressure, as for streams).
        while (true)
        {
            await _registration.WaitWritableAsync(cancellationToken);
            try
            {
                if (TrySend(datagram.Span, address)) return;
            }
            catch (SocketException e)
            {
                throw SendError(e, to);
            }
        }
    }

    /// <summary>Sends the datagram whole; false if it would block.</summary>
    private bool TrySend(ReadOnlySpan<byte> datagram, SocketAddress? address)
    {
        if (address is null)
        {
            _socket.Send(datagram, SocketFlags.None, out var error);
            if (error == SocketError.Success) return true;
            if (error == SocketError.WouldBlock) return false;
            throw new SocketException((int)error);
        }
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, address);
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
        {
            return false;
        }
    }

    private SystemCallException SendError(SocketException e, IPEndPoint? to) =>
        SystemErrors.From(to is null ? "send" : "sendto", e, to is null ? Description : $"{Description} -> {to}");

    public override ValueTask<ReceivedDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_closed) return ValueTask.FromException<ReceivedDatagram>(new ObjectDisposedException(Description));
        // A poll first: the SocketAddress receive has no non-throwing form, and an empty queue should not cost an exception.
        if (_socket.Poll(0, SelectMode.SelectRead) || _socket.Poll(0, SelectMode.SelectError)) // a datagram, or an ICMP error to report
        {
            try
            {
                if (TryReceive(buffer) is { } datagram) return new ValueTask<ReceivedDatagram>(datagram);
            }
            catch (SocketException e)
            {
                return ValueTask.FromException<ReceivedDatagram>(SystemErrors.From("recvfrom", e, Description));
            }
        }
        return ReceiveSlowAsync(buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReceivedDatagram> ReceiveSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            await _registration.WaitReadableAsync(cancellationToken);
            try
            {
                if (TryReceive(buffer) is { } datagram) return datagram;
            }
            catch (SocketException e)
            {
                throw SystemErrors.From("recvfrom", e, Description);
            }
        }
    }

    /// <summary>Receives one datagram, or returns null if none is there after all.</summary>
    private ReceivedDatagram? TryReceive(Memory<byte> buffer)
    {
        var from = Addresses.Received;
        from.Size = Addresses.Capacity;
        try
        {
            int n = _socket.ReceiveFrom(buffer.Span, TruncatedLength, from);
            return new ReceivedDatagram(Math.Min(n, buffer.Length), Addresses.Sender(), n > buffer.Length);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
        {
            return null;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
        {
            // .NET reports a datagram longer than the buffer as an error after filling the buffer; the kernel
            // discarded the rest, as on the epoll path, so it is a truncated datagram, not a failure.
            return new ReceivedDatagram(buffer.Length, Addresses.Sender(), true);
        }
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
