using System.Net;

namespace Meanwhile;

/// <summary>
/// The simulation's network and scheduler of network events: hosts and their names, links and their faults, packets in
/// flight, and the trace. Every choice (latencies, losses, the order of simultaneous events) is drawn from the seed, and
/// everything runs on the loop thread, on the loop's virtual clock.
/// </summary>
internal sealed class SimulatedNetwork
{
    private IPEndPoint? _lastEndPoint;
    private readonly NetworkEventQueue _events = new();
    private SimulatedLink?[][] _links = []; // [higher host id][lower host id]: two lookups per packet, no hashing
    private readonly SimulatedLink _loopback = new(new LinkOptions { Latency = LatencyDistribution.Zero });
    private readonly List<SimulatedHost> _hosts = new();
    private readonly Dictionary<string, SimulatedHost> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<IPAddress, SimulatedHost> _byAddress = new();
    private readonly Action _onTimer;
    private readonly Action _onFlush;
    private bool _flushQueued;
    private EventLoop? _loop;
    private CallbackTimer? _timer;
    private long _timerDue;
    private bool _firing;
    private long _nextResourceId;

    public SimulatedNetwork(long seed, SimulationOptions options)
    {
        Random = new SimulationRandom(seed);
        Options = options;
        Trace = new SimulationTrace(options.TraceLog);
        _onTimer = OnTimer;
        _onFlush = OnFlush;
    }

    public SimulationOptions Options { get; }

    public SimulationRandom Random { get; }

    public SimulationTrace Trace { get; }

    public IReadOnlyList<SimulatedHost> Hosts => _hosts;

    public EventLoop Loop => _loop ?? throw new InvalidOperationException("The simulation is not running.");

    /// <summary>The virtual time, in ticks.</summary>
    public long Now => Loop.Time.GetTimestamp();

    public void Attach(EventLoop loop) => _loop = loop;

    public long NextResourceId() => ++_nextResourceId;

    public void Add(SimulatedHost host)
    {
        if (!_byName.TryAdd(host.Name, host)) throw new ArgumentException($"A host named '{host.Name}' already exists.", nameof(host));
        if (!_byAddress.TryAdd(host.Address, host))
        {
            _byName.Remove(host.Name);
            throw new ArgumentException($"Host '{_byAddress[host.Address].Name}' already has address {host.Address}.", nameof(host));
        }
        _hosts.Add(host);
    }

    public SimulatedHost Host(string name) =>
        _byName.TryGetValue(name, out var host) ? host : throw new ArgumentException($"No host is named '{name}'.", nameof(name));

    /// <summary>The host an address reaches from <paramref name="from"/>, or null.</summary>
    public SimulatedHost? Route(SimulatedHost from, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return from;
        return _byAddress.GetValueOrDefault(address);
    }

    /// <summary>Name resolution inside the simulation: host names, and localhost.</summary>
    public IPAddress[]? Resolve(string name) => ResolveOne(name) is { } address ? [address] : null;

    /// <summary>The one address <paramref name="name"/> resolves to, or null: <see cref="Resolve"/> without an array per connect.</summary>
    public IPAddress? ResolveOne(string name)
    {
        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)) return IPAddress.Loopback;
        return _byName.TryGetValue(name.TrimEnd('.'), out var host) ? host.Address : null;
    }

    /// <summary>
    /// The endpoint of <paramref name="address"/> and <paramref name="port"/>: the last one made again when it is equal, so
    /// ten thousand connects to one server share one (the accepting side's local endpoint is the same object, as its
    /// remote one is the client's local endpoint: the simulation never changes an endpoint it hands out).
    /// </summary>
    public IPEndPoint EndPointFor(IPAddress address, int port)
    {
        if (_lastEndPoint is { } last && last.Port == port && last.Address.Equals(address)) return last;
        return _lastEndPoint = new IPEndPoint(address, port);
    }

    public SimulatedLink Link(SimulatedHost a, SimulatedHost b)
    {
        if (ReferenceEquals(a, b)) return _loopback;
        var (low, high) = a.Id < b.Id ? (a.Id, b.Id) : (b.Id, a.Id);
        if (high >= _links.Length) Array.Resize(ref _links, Math.Max(high + 1, 2 * _links.Length));
        var row = _links[high] ??= new SimulatedLink?[high];
        return row[low] ??= new SimulatedLink(Options.Link);
    }

    /// <summary>Runs <paramref name="e"/> at <paramref name="time"/>; among events of the same time, the seed decides the order.</summary>
    public void Schedule(long time, NetworkEvent e)
    {
        _events.Enqueue(e, new EventKey(time, Random.NextUInt64()));
        if (!_firing) Arm();
    }

    /// <summary>
    /// Makes the loop fire the earliest event when it is due: on its next turn if it is due now (no timer for the
    /// common zero-latency case), else on a loop timer, which the virtual clock jumps to.
    /// </summary>
    private void Arm()
    {
        if (!_events.TryPeek(out _, out var next)) return;
        if (next.Time <= Now)
        {
            if (_flushQueued) return;
            _flushQueued = true;
            Loop.EnqueueReady(new ReadyItem(_onFlush));
            return;
        }
        if (_timer is not null)
        {
            if (_timerDue <= next.Time) return;
            _timer.Cancel();
        }
        _timerDue = next.Time;
        _timer = new CallbackTimer(Loop, TimeSpan.FromTicks(next.Time - Now), _onTimer);
    }

    private void OnTimer()
    {
        _timer = null;
        FireDue();
    }

    private void OnFlush()
    {
        _flushQueued = false;
        FireDue();
    }

    private void FireDue()
    {
        _firing = true;
        try
        {
            long now = Now;
            while (_events.TryPeek(out var e, out var key) && key.Time <= now)
            {
                _events.Dequeue();
                e.Fire();
            }
        }
        finally
        {
            _firing = false;
            Arm();
        }
    }

    /// <summary>Puts <paramref name="packet"/> on the wire: it arrives after the link's latency (and its wait for bandwidth).</summary>
    public void Send(Packet packet)
    {
        if (packet.IsObsolete) return;
        var link = Link(packet.From, packet.To);
        var options = link.Options;
        long now = Now;
        long arrival = link.Departure(packet.From.Id <= packet.To.Id, now, packet.Length, TimeSpan.TicksPerSecond) + options.Latency.Sample(Random);
        if (!packet.Reliable)
        {
            if (Random.Chance(options.Reordering)) arrival += 2 * options.Latency.Sample(Random) + 1;
            if (Random.Chance(options.Duplication) && packet.Duplicate() is { } copy)
            {
                copy.Arriving = true;
                Schedule(arrival + options.Latency.Sample(Random), copy);
            }
        }
        packet.Arriving = true;
        Schedule(arrival, packet);
    }

    /// <summary>A packet reaches the far end of its link: held, lost, or delivered.</summary>
    public void Arrive(Packet packet)
    {
        if (packet.IsObsolete) return;
        var link = Link(packet.From, packet.To);
        long now = Now;
        if (link.Held)
        {
            packet.Record(Trace, "held", now);
            link.Park(packet);
            return;
        }
        if (link.Partitioned || !packet.To.IsUp || Random.Chance(link.Options.Loss))
        {
            Lose(packet);
            return;
        }
        packet.Record(Trace, "delivered", now);
        packet.Deliver();
        if (packet.Arriving) packet.Delivered(); // not lost meanwhile (a SYN a full backlog dropped is sent again)
    }

    /// <summary>Segments delivered and free to carry another (a connection's segments are each used once).</summary>
    public Stack<StreamSegment> FreeSegments { get; } = new();

    /// <summary>The packet is lost: a datagram is gone; a segment is sent again after the retransmission timeout, or given up.</summary>
    public void Lose(Packet packet)
    {
        long now = Now;
        packet.Record(Trace, "lost", now);
        if (!packet.Reliable) return;
        if (++packet.Losses > MaxLosses(packet))
        {
            packet.GiveUp();
            return;
        }
        packet.Arriving = false;
        long delay = packet.FirstRetransmissionDelay << Math.Min(packet.Losses - 1, 16);
        Schedule(now + Math.Min(delay, TimeSpan.TicksPerMinute * 2), packet);
    }

    private int MaxLosses(Packet packet) => packet is StreamSegment { Kind: SegmentKind.Syn } ? 6 : Options.MaxRetransmissions;

    /// <summary>Ends a hold: what it kept arrives now, in the order it came.</summary>
    public void Release(SimulatedLink link)
    {
        foreach (var packet in link.Release()) Schedule(Now, packet);
    }

    /// <summary>Records a fault or a host's life event in the trace.</summary>
    public void RecordFault(string what, SimulatedHost a, SimulatedHost? b)
    {
        long now = _loop is null ? 0 : Now;
        Trace.Record("fault", what, now, a.Id, b?.Id ?? -1, 0, 0, default);
        if (Trace.IsLogging) Trace.Log(now, $"{what} {a.Name}{(b is null ? "" : $" {b.Name}")}");
    }
}
