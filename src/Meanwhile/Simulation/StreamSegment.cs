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

/// <summary>
/// A TCP (or Unix) segment in flight. Data and end of stream carry a sequence number and arrive in order. Once delivered
/// it carries the next segment its network sends (<see cref="Send"/>): ten thousand connections exchanging a few segments
/// each need a few segments each at a time, not one per segment sent.
/// </summary>
internal sealed class StreamSegment : Packet
{
    private static readonly string[] KindNames = ["tcp-syn", "tcp-synack", "tcp-data", "tcp-fin", "tcp-rst", "tcp-refused"];

    private bool _kept; // held by its target until the segments before it arrive: freed by it, not by delivery

    private StreamSegment(SimulatedHost from, SimulatedHost to) : base(from, to) { }

    /// <summary>Sends a segment on <paramref name="network"/> (a free one, filled in, or a new one).</summary>
    public static void Send(SimulatedNetwork network, SegmentKind kind, SimulatedSocketStream? source, SimulatedSocketStream? target,
        SimulatedHost from, SimulatedHost to, long sequence, byte[]? data)
    {
        if (!network.FreeSegments.TryPop(out var segment)) segment = new StreamSegment(from, to);
        segment.From = from;
        segment.To = to;
        segment.Kind = kind;
        segment.Source = source;
        segment.Target = target;
        segment.Sequence = sequence;
        segment.Data = data;
        network.Send(segment);
    }

    public SegmentKind Kind { get; private set; }

    /// <summary>The endpoint that sent it (null for a refusal, which no socket sends).</summary>
    public SimulatedSocketStream? Source { get; private set; }

    /// <summary>The endpoint it is for (null for a connection attempt: the listener's host makes one).</summary>
    public SimulatedSocketStream? Target { get; private set; }

    public long Sequence { get; private set; }

    public byte[]? Data { get; private set; }

    /// <summary>The address a connection attempt is for: its socket's remote end (no field of its own, 8 bytes less per segment).</summary>
    public EndPoint? Destination => Kind == SegmentKind.Syn ? Source!.RemoteEndPoint : null;

    /// <summary>Its target keeps it for later (it arrived before segments sent earlier), then frees it.</summary>
    public void Keep() => _kept = true;

    public override void Delivered()
    {
        if (!_kept) Free(); // else its target frees it once the segments before it arrived
    }

    /// <summary>Done with: free to carry the next segment its network sends.</summary>
    public void Free()
    {
        _kept = false;
        Source = Target = null;
        Data = null;
        Losses = 0;
        Arriving = false;
        Network.FreeSegments.Push(this);
    }

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
