namespace Meanwhile.Http.WebSockets;

/// <summary>
/// The deadlines of one loop's WebSockets that share options: one <see cref="DeadlineQueue"/> per timeout, so a
/// connection's keep-alive is an entry in a list (reset on every frame without allocating), not a timer of its own.
/// </summary>
/// <remarks>
/// A connection waits in <see cref="Ping"/> while the peer is heard from; when that passes it sends a ping and waits
/// in <see cref="Pong"/>, for the rest of the idle timeout. With only an idle timeout it waits in <see cref="Idle"/>.
/// </remarks>
internal sealed class KeepAliveQueues
{
    public KeepAliveQueues(EventLoop loop, TimeSpan? interval, TimeSpan? idleTimeout)
    {
        if (interval is { } every && !(idleTimeout is { } shorter && shorter <= every))
        {
            Ping = new DeadlineQueue(loop, every);
            // After the ping, what is left of the idle timeout (the interval again when there is none, or it is shorter).
            var rest = idleTimeout is { } idle && idle > every ? idle - every : every;
            Pong = new DeadlineQueue(loop, rest);
            ClosesAfterPong = idleTimeout is not null;
        }
        else if (idleTimeout is { } idle) Idle = new DeadlineQueue(loop, idle);
    }

    public DeadlineQueue? Ping { get; }

    public DeadlineQueue? Pong { get; }

    /// <summary>Whether silence through <see cref="Pong"/> closes the connection (an idle timeout is set) or only pings again.</summary>
    public bool ClosesAfterPong { get; }

    public DeadlineQueue? Idle { get; }
}
