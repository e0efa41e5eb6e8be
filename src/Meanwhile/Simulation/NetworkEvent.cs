namespace Meanwhile;

/// <summary>Something the simulated network does at a virtual time: a packet arriving, a retransmission, a timeout.</summary>
internal abstract class NetworkEvent
{
    /// <summary>Runs on the loop thread when the event's time has come, in the order the seed gave simultaneous events.</summary>
    public abstract void Fire();
}

/// <summary>A network event that runs a callback (rare events: timeouts, faults scheduled by a test).</summary>
internal sealed class CallbackEvent(Action callback) : NetworkEvent
{
    public override void Fire() => callback();
}
