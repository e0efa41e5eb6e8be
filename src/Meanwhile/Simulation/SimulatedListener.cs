using System.Net;
using System.Net.Sockets;

namespace Meanwhile;

/// <summary>
/// A listening socket of a simulated host (TCP port or Unix path): connection attempts that arrive are answered and
/// queued, up to the backlog; beyond it they are dropped (the client sends its SYN again), as Linux does.
/// </summary>
internal sealed class SimulatedListener : PlatformListener, ISimulatedResource
{
    private readonly SimulatedNetwork _network;
    private readonly SimulatedHost _host;
    private readonly IoRegistration _registration;
    private readonly Queue<SimulatedSocketStream> _pending = new();
    private readonly int _backlog;
    private bool _closed;

    private SimulatedListener(SimulatedNetwork network, SimulatedHost host, EndPoint local, int backlog)
    {
        _network = network;
        _host = host;
        LocalEndPoint = local;
        _backlog = Math.Max(1, backlog);
        Id = network.NextResourceId();
        host.Resources.Add(this);
        _registration = new IoRegistration(network.Loop, unchecked((int)Id), external: false);
    }

    public long Id { get; }

    public ISimulatedResource? PreviousResource { get; set; }

    public ISimulatedResource? NextResource { get; set; }

    public override EndPoint LocalEndPoint { get; }

    /// <summary>Binds and listens on <paramref name="endpoint"/> of <paramref name="host"/>.</summary>
    public static SimulatedListener Listen(SimulatedNetwork network, SimulatedHost host, EndPoint endpoint, ListenOptions options)
    {
        if (endpoint is UnixDomainSocketEndPoint unix)
        {
            string path = unix.ToString();
            if (host.UnixListeners.ContainsKey(path)) throw SystemErrors.From("bind", Errno.EADDRINUSE, $"{path} on {host.Name} (simulated)");
            var listener = new SimulatedListener(network, host, endpoint, options.Backlog);
            host.UnixListeners.Add(path, listener);
            return listener;
        }
        if (endpoint is not IPEndPoint ip)
            throw new ArgumentException($"A simulated listener binds an IPEndPoint or a UnixDomainSocketEndPoint, not {endpoint.GetType().Name}.", nameof(endpoint));
        if (!host.IsLocal(ip.Address)) throw SystemErrors.From("bind", Errno.EADDRNOTAVAIL, $"{ip} on {host.Name} (simulated)");
        int port = ip.Port != 0 ? ip.Port : host.NextEphemeralPort(p => !host.TcpListeners.ContainsKey(p));
        if (host.TcpListeners.ContainsKey(port)) throw SystemErrors.From("bind", Errno.EADDRINUSE, $"{ip} on {host.Name} (simulated)");
        var tcp = new SimulatedListener(network, host, new IPEndPoint(ip.Address, port), options.Backlog);
        host.TcpListeners.Add(port, tcp);
        return tcp;
    }

    /// <summary>A connection attempt reached its host: queue it for a listener, or refuse it.</summary>
    public static void OnSyn(SimulatedNetwork network, StreamSegment syn)
    {
        var host = syn.To;
        SimulatedListener? listener = syn.Destination switch
        {
            UnixDomainSocketEndPoint unix => host.UnixListeners.GetValueOrDefault(unix.ToString()),
            IPEndPoint ip => host.TcpListeners.TryGetValue(ip.Port, out var l) && l.Accepts(ip.Address) ? l : null,
            _ => null,
        };
        if (listener is null)
        {
            StreamSegment.Send(network, SegmentKind.Refused, null, syn.Source, host, syn.From, 0, null);
            return;
        }
        if (listener._pending.Count >= listener._backlog)
        {
            network.Lose(syn); // a full backlog drops the SYN; the client tries again
            return;
        }
        // The address the client connected to, shared (as the client's own end is: SimulatedNetwork.EndPointFor).
        EndPoint local = syn.Destination is IPEndPoint to ? to : listener.LocalEndPoint;
        listener._pending.Enqueue(SimulatedSocketStream.Accept(network, syn, local));
        listener._registration.OnReady(readable: true, writable: false);
    }

    private bool Accepts(IPAddress address)
    {
        var bound = ((IPEndPoint)LocalEndPoint).Address;
        if (bound.Equals(IPAddress.Any) || bound.Equals(IPAddress.IPv6Any)) return true;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return bound.Equals(address) || (IPAddress.IsLoopback(bound) && IPAddress.IsLoopback(address));
    }

    public override async ValueTask<SocketStream> AcceptAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_closed) throw new ObjectDisposedException($"listener {LocalEndPoint} on {_host.Name}");
            if (_pending.TryDequeue(out var stream)) return new SocketStream(_network.Loop, stream);
            await _registration.WaitReadableAsync(cancellationToken);
        }
    }

    public override ValueTask CloseAsync()
    {
        if (_closed) return ValueTask.CompletedTask;
        _closed = true;
        // Connections the application never accepted are reset, as the kernel does when a listener closes.
        while (_pending.TryDequeue(out var stream)) stream.Crash();
        _registration.Dispose();
        if (LocalEndPoint is UnixDomainSocketEndPoint unix) _host.UnixListeners.Remove(unix.ToString());
        else _host.TcpListeners.Remove(((IPEndPoint)LocalEndPoint).Port);
        _host.Resources.Remove(this);
        return ValueTask.CompletedTask;
    }

    public void Crash() => _ = CloseAsync();
}
