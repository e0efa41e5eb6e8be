namespace Meanwhile;

/// <summary>
/// Something that crosses the simulated network from one host to another: a stream segment or a datagram. The network
/// sends it (it leaves once the link's wire is free), lets it arrive after a latency drawn from the seed, and at arrival
/// decides its fate: delivered, held, or lost (then, if reliable, sent again after a retransmission timeout).
/// </summary>
internal abstract class Packet(SimulatedHost from, SimulatedHost to) : NetworkEvent
{
    // The hosts' network (no field of its own: twenty thousand segments are in flight at once in the scale run).
    protected SimulatedNetwork Network => From.Network;

    public SimulatedHost From { get; protected set; } = from;

    public SimulatedHost To { get; protected set; } = to;

    /// <summary>Bytes on the wire, for bandwidth.</summary>
    public abstract int Length { get; }

    /// <summary>Whether a loss is repaired by retransmission (streams) or final (datagrams).</summary>
    public abstract bool Reliable { get; }

    /// <summary>How many times it was lost so far.</summary>
    public int Losses { get; set; }

    /// <summary>On the wire (the next <see cref="Fire"/> is its arrival) rather than waiting to be sent again.</summary>
    public bool Arriving { get; set; }

    /// <summary>Whether the packet no longer matters (its sender was reset): it vanishes instead of being sent again.</summary>
    public virtual bool IsObsolete => false;

    /// <summary>The first retransmission's delay (a connection attempt waits longer than a segment of an open connection).</summary>
    public virtual long FirstRetransmissionDelay => Network.Options.RetransmissionTimeout.Ticks;

    public override void Fire()
    {
        if (Arriving) Network.Arrive(this);
        else Network.Send(this);
    }

    /// <summary>Hands the packet to its destination, which is up.</summary>
    public abstract void Deliver();

    /// <summary>
    /// The packet was delivered and is not on its way again (the destination did not drop it to be sent again): it may
    /// serve for another packet, unless the destination keeps it.
    /// </summary>
    public virtual void Delivered() { }

    /// <summary>Too many losses: the sender gives up (a connection times out).</summary>
    public virtual void GiveUp() { }

    /// <summary>A second copy, for duplication (datagrams only).</summary>
    public virtual Packet? Duplicate() => null;

    /// <summary>Adds the packet's fate to the trace.</summary>
    public abstract void Record(SimulationTrace trace, string outcome, long time);
}
