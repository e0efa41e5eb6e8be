using System.Net;

namespace Meanwhile;

/// <summary>A UDP datagram in flight: lost, duplicated or reordered as its link says, never sent again.</summary>
internal sealed class Datagram(SimulatedHost from, SimulatedHost to, IPEndPoint source, IPEndPoint destination, byte[] data)
    : Packet(from, to)
{
    public IPEndPoint Source { get; } = source;

    public IPEndPoint Destination { get; } = destination;

    public byte[] Data { get; } = data;

    public override int Length => 28 + Data.Length;

    public override bool Reliable => false;

    public override Packet Duplicate() => new Datagram(From, To, Source, Destination, Data);

    public override void Deliver()
    {
        if (To.UdpSockets.TryGetValue(Destination.Port, out var socket)) socket.OnDatagram(this);
        else Record(Network.Trace, "unreachable", Network.Now); // no socket on that port: dropped (ICMP is not simulated)
    }

    public override void Record(SimulationTrace trace, string outcome, long time)
    {
        trace.Record("udp", outcome, time, From.Id, To.Id, Source.Port, Destination.Port, Data);
        if (trace.IsLogging) trace.Log(time, $"udp {outcome} {From.Name}:{Source.Port} -> {To.Name}:{Destination.Port} len {Data.Length}");
    }
}
