using System.Net;

namespace Meanwhile;

/// <summary>
/// One machine of a <see cref="Simulation"/>: a name that resolves to its address, ports of its own, and an async entry
/// point run as a task of the simulation's loop. Everything the entry point opens (sockets, listeners) belongs to the
/// host: a crash resets it and cancels the host's tasks.
/// </summary>
public sealed class SimulatedHost
{
    private readonly Func<CancellationToken, Task>? _entryPoint;
    private int _nextEphemeralPort = 49152;

    internal SimulatedHost(SimulatedNetwork network, int id, string name, IPAddress address, Func<CancellationToken, Task>? entryPoint)
    {
        Network = network;
        Id = id;
        Name = name;
        Address = address;
        _entryPoint = entryPoint;
    }

    internal int Id { get; }

    /// <summary>The network the host is on.</summary>
    internal SimulatedNetwork Network { get; }

    /// <summary>The host's name, which the other hosts resolve to <see cref="Address"/>.</summary>
    public string Name { get; }

    /// <summary>The host's address on the simulated network.</summary>
    public IPAddress Address { get; }

    /// <summary>Whether the host runs (false between <see cref="Simulation.Crash"/> and <see cref="Simulation.Restart"/>).</summary>
    public bool IsUp { get; internal set; } = true;

    /// <summary>How many times the host has been started (1 before any restart).</summary>
    public int Incarnation { get; internal set; }

    /// <summary>The task running the entry point in the current incarnation (null for the client host until it runs).</summary>
    internal LoopTask? Task { get; set; }

    internal Func<CancellationToken, Task>? EntryPoint => _entryPoint;

    /// <summary>What the host has open, in the order of their ids.</summary>
    internal SimulatedResourceList Resources { get; } = new();

    internal Dictionary<int, SimulatedListener> TcpListeners { get; } = new();

    internal Dictionary<string, SimulatedListener> UnixListeners { get; } = new(StringComparer.Ordinal);

    internal Dictionary<int, SimulatedDatagramSocket> UdpSockets { get; } = new();

    /// <summary>A free port from the ephemeral range (49152-65535), in order, as a fresh Linux host hands them out.</summary>
    internal int NextEphemeralPort(Func<int, bool> isFree)
    {
        for (int tries = 0; tries < 16384; tries++)
        {
            int port = _nextEphemeralPort;
            _nextEphemeralPort = port == 65535 ? 49152 : port + 1;
            if (isFree(port)) return port;
        }
        throw SystemErrors.From("bind", Errno.EADDRINUSE, $"{Name}: no ephemeral port left");
    }

    /// <summary>Whether <paramref name="address"/> reaches this host from itself (its own address, loopback, any).</summary>
    internal bool IsLocal(IPAddress address) =>
        IPAddress.IsLoopback(address) || address.Equals(Address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
        || (address.IsIPv4MappedToIPv6 && IsLocal(address.MapToIPv4()));

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Address})";
}

/// <summary>Something a simulated host has open (a socket, a listener): a crash resets it.</summary>
internal interface ISimulatedResource
{
    /// <summary>Unique in the simulation, in order of creation: a crash resets resources in this order.</summary>
    long Id { get; }

    /// <summary>The host crashed: drop everything, tell peers as the kernel of a dead process would (a reset), end pending waits.</summary>
    void Crash();

    /// <summary>The resource opened before it on its host and still open (<see cref="SimulatedResourceList"/>'s link).</summary>
    ISimulatedResource? PreviousResource { get; set; }

    /// <summary>The resource opened after it on its host and still open.</summary>
    ISimulatedResource? NextResource { get; set; }
}
