using System.Net;

namespace Meanwhile;

/// <summary>What a stream segment carries.</summary>
internal enum SegmentKind : byte
{
    /// <summary>A connection attempt.</summary>
    Syn,
    /// <summary>The listener's host accepted the attempt.</summary>
    SynAck,
    /// <summary>Bytes, in sequence.</summary>
    Data,
    /// <summary>The end of the sender's output, in sequence.</summary>
    Fin,
    /// <summary>The connection is reset (a crash, a close with unread data, data for a closed socket).</summary>
    Reset,
    /// <summary>Nothing listens at the address of a connection attempt.</summary>
    Refused,
}

/// <summary>A TCP (or Unix) segment in flight. Data and end of stream carry a sequence number and arrive in order.</summary>
internal sealed class StreamSegment(
    SimulatedNetwork network, SegmentKind kind, SimulatedSocketStream? source, SimulatedSocketStream? target, SimulatedHost from, SimulatedHost to,
    long sequence, byte[]? data, EndPoint? destination) : Packet(network, from, to)
{
    private static readonly string[] KindNames = ["tcp-syn", "tcp-synack", "tcp-data", "tcp-fin", "tcp-rst", "tcp-refused"];

    public SegmentKind Kind { get; } = kind;

    /// <summary>The endpoint that sent it (null for a refusal, which no socket sends).</summary>
    public SimulatedSocketStream? Source { get; } = source;

    /// <summary>The endpoint it is for (null for a connection attempt: the listener's host makes one).</summary>
    public SimulatedSocketStream? Target { get; } = target;

    public long Sequence { get; } = sequence;

    public byte[]? Data { get; } = data;

    /// <summary>The address a connection attempt is for.</summary>
    public EndPoint? Destination { get; } = destination;

    public override int Length => 40 + (Data?.Length ?? 0);

    public override bool Reliable => true;

    public override bool IsObsolete => Kind switch
    {
        SegmentKind.Syn => Source!.IsClosed,
        SegmentKind.Data or SegmentKind.Fin or SegmentKind.SynAck => Source!.IsAbandoned,
        _ => false,
    };

    // Linux's first SYN retransmission comes after 1 s.
    public override long FirstRetransmissionDelay => Kind == SegmentKind.Syn ? TimeSpan.TicksPerSecond : base.FirstRetransmissionDelay;

    public override void Deliver()
    {
        switch (Kind)
        {
            case SegmentKind.Syn: SimulatedListener.OnSyn(Network, this); break;
            case SegmentKind.SynAck: Target!.OnSynAck(Source!); break;
            case SegmentKind.Data or SegmentKind.Fin: Target!.OnSequenced(this); break;
            case SegmentKind.Reset: Target!.OnReset(); break;
            default: Target!.OnRefused(); break;
        }
    }

    public override void GiveUp() => Source?.OnTimedOut();

    public override void Record(SimulationTrace trace, string outcome, long time)
    {
        string kind = KindNames[(int)Kind];
        trace.Record(kind, outcome, time, From.Id, To.Id, Source?.Id ?? Target?.Id ?? 0, Sequence, Data);
        if (trace.IsLogging)
            trace.Log(time, $"{kind} {outcome} {From.Name} -> {To.Name} (socket {Source?.Id ?? Target?.Id}) seq {Sequence} len {Data?.Length ?? 0}");
    }
}
