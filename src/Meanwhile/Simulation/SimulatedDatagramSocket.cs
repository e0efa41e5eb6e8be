using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A UDP socket of a simulated host: sends never wait; what arrives is queued up to
/// <see cref="SimulationOptions.DatagramQueueLength"/> datagrams, beyond which arrivals are dropped, as a full kernel
/// buffer drops them.
/// </summary>
internal sealed class SimulatedDatagramSocket : PlatformDatagramSocket, ISimulatedResource
{
    private const int MaxDatagram = 65507;

    private readonly SimulatedNetwork _network;
    private readonly SimulatedHost _host;
    private readonly IoRegistration _registration;
    private readonly Queue<Datagram> _queue = new();
    private IPEndPoint? _local;
    private IPEndPoint? _remote;
    private bool _closed;

    public SimulatedDatagramSocket(SimulatedNetwork network, SimulatedHost host, AddressFamily family) : base(family)
    {
        _network = network;
        _host = host;
        Id = network.NextResourceId();
        host.Resources.Add(this);
        _registration = new IoRegistration(network.Loop, unchecked((int)Id), external: false);
    }

    public long Id { get; }

    public ISimulatedResource? PreviousResource { get; set; }

    public ISimulatedResource? NextResource { get; set; }

    public override IPEndPoint? LocalEndPoint => _closed ? null : _local;

    public override string Description => $"udp {_local?.ToString() ?? "(unbound)"} on {_host.Name} (simulated)";

    public override void Bind(IPEndPoint endpoint)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (_local is not null) throw SystemErrors.From("bind", Errno.EINVAL, Description);
        if (!_host.IsLocal(endpoint.Address)) throw SystemErrors.From("bind", Errno.EADDRNOTAVAIL, $"{endpoint} on {_host.Name} (simulated)");
        int port = endpoint.Port != 0 ? endpoint.Port : _host.NextEphemeralPort(p => !_host.UdpSockets.ContainsKey(p));
        if (_host.UdpSockets.ContainsKey(port)) throw SystemErrors.From("bind", Errno.EADDRINUSE, $"{endpoint} on {_host.Name} (simulated)");
        _host.UdpSockets.Add(port, this);
        _local = new IPEndPoint(endpoint.Address, port);
    }

    private void BindIfUnbound()
    {
        if (_local is null) Bind(new IPEndPoint(Family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
    }

    public override void Connect(IPEndPoint endpoint)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        BindIfUnbound();
        _remote = endpoint;
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint? to, CancellationToken cancellationToken)
    {
        if (_closed) return ValueTask.FromException(new ObjectDisposedException(Description));
        var destination = to ?? _remote ?? throw new InvalidOperationException($"{Description} is not connected.");
        if (datagram.Length > MaxDatagram) return ValueTask.FromException(SystemErrors.From("sendto", Errno.EMSGSIZE, $"{Description} -> {destination}"));
        BindIfUnbound();
        var target = _network.Route(_host, destination.Address);
        if (target is null) return ValueTask.CompletedTask; // nowhere to go: a datagram is silently lost
        var source = new IPEndPoint(ReferenceEquals(target, _host) && IPAddress.IsLoopback(destination.Address) ? IPAddress.Loopback : _host.Address, _local!.Port);
        _network.Send(new Datagram(_host, target, source, destination, datagram.ToArray()));
        return ValueTask.CompletedTask;
    }

    public override ValueTask<ReceivedDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_closed) return ValueTask.FromException<ReceivedDatagram>(new ObjectDisposedException(Description));
        if (_queue.TryDequeue(out var datagram)) return new ValueTask<ReceivedDatagram>(Copy(datagram, buffer.Span));
        return ReceiveSlowAsync(buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReceivedDatagram> ReceiveSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            await _registration.WaitReadableAsync(cancellationToken);
            if (_closed) throw new ObjectDisposedException(Description);
            if (_queue.TryDequeue(out var datagram)) return Copy(datagram, buffer.Span);
        }
    }

    private static ReceivedDatagram Copy(Datagram datagram, Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, datagram.Data.Length);
        datagram.Data.AsSpan(0, n).CopyTo(buffer);
        return new ReceivedDatagram(n, datagram.Source, n < datagram.Data.Length);
    }

    /// <summary>A datagram for this socket's port arrived.</summary>
    internal void OnDatagram(Datagram datagram)
    {
        if (_remote is not null && !_remote.Equals(datagram.Source)) return; // a connected socket hears only its peer
        if (_queue.Count >= _network.Options.DatagramQueueLength)
        {
            datagram.Record(_network.Trace, "overflow", _network.Now);
            return;
        }
        _queue.Enqueue(datagram);
        _registration.OnReady(readable: true, writable: false);
    }

    public override ValueTask CloseAsync()
    {
        if (_closed) return ValueTask.CompletedTask;
        _closed = true;
        _queue.Clear();
        _registration.Dispose();
        if (_local is not null) _host.UdpSockets.Remove(_local.Port);
        _host.Resources.Remove(this);
        return ValueTask.CompletedTask;
    }

    public void Crash() => _ = CloseAsync();
}
