namespace Meanwhile.Http.Server;

/// <summary>
/// The deadlines of one loop's connections (Kestrel's <c>TimeoutControl</c>, kept once per loop rather than once per
/// connection): which timeout each <see cref="ConnectionPhase"/> runs, and what happens when it passes.
/// </summary>
/// <remarks>
/// <para>
/// One <see cref="DeadlineQueue"/> per configured timeout (null where the option turns it off), and a connection is its
/// own entry: a phase change unlinks it from one list and appends it to another, O(1) and allocation-free, and an idle
/// connection costs no work at all until its deadline — no heartbeat walks every connection each second. The queues
/// expire at most a few dozen entries per loop turn, so a wave of slow clients timing out at once does not stall the
/// others. Waiting for body bytes re-checks the minimum data rate once a second while the wait lasts.
/// </para>
/// <para>Loop thread only.</para>
/// </remarks>
internal sealed class ConnectionTimeouts
{
    private readonly LoopServer _server;
    private readonly DeadlineQueue? _requestHead;
    private readonly DeadlineQueue? _keepAlive;
    private readonly DeadlineQueue? _write;
    private readonly DeadlineQueue? _linger;
    private readonly DeadlineQueue? _bodyRate;
    private readonly DeadlineQueue? _handshake;
    private readonly Action<ConnectionPhase>? _observer;

    public ConnectionTimeouts(LoopServer server)
    {
        _server = server;
        var options = server.Options;
        _requestHead = QueueFor(options.RequestHeadTimeout);
        _keepAlive = QueueFor(options.KeepAliveTimeout);
        _write = QueueFor(options.ResponseWriteTimeout);
        _linger = QueueFor(options.LingerTimeout);
        _bodyRate = options.MinRequestBodyDataRate > 0 ? QueueFor(TimeSpan.FromSeconds(1)) : null;
        _handshake = options.Https is { } https ? QueueFor(https.HandshakeTimeout) : null;
        _observer = options.PhaseObserver;
    }

    private DeadlineQueue? QueueFor(TimeSpan timeout) => timeout > TimeSpan.Zero ? new DeadlineQueue(_server.Loop, timeout) : null;

    /// <summary>An HTTPS connection's TLS handshake runs: the handshake timeout runs from the accept.</summary>
    public void HandshakeStarted(ServerConnection connection) => Enter(connection, ConnectionPhase.Handshake, _handshake);

    /// <summary>A new connection waits for its first request: the head timeout runs from the accept (from the handshake's end over TLS).</summary>
    public void Accepted(ServerConnection connection) => Enter(connection, ConnectionPhase.Idle, _requestHead);

    /// <summary>A request's first byte arrived: the head timeout runs from it (from the accept for the first request).</summary>
    public void HeadStarted(ServerConnection connection)
    {
        if (connection.ServedAny) Enter(connection, ConnectionPhase.Head, _requestHead);
        else Announce(connection, ConnectionPhase.Head); // keeps the deadline of Accepted
    }

    /// <summary>
    /// A request's whole head came in one read and its handler starts next, with no wait between: the Head phase is
    /// announced, and the connection keeps the deadline it had (the handler's start stops it) rather than starting the
    /// head timeout only to stop it again.
    /// </summary>
    public void HeadArrivedWhole(ServerConnection connection) => Announce(connection, ConnectionPhase.Head);

    /// <summary>A handler runs: the application decides how long.</summary>
    public void HandlerStarted(ServerConnection connection) => Enter(connection, ConnectionPhase.Handler, null);

    /// <summary>The response is out and the connection waits for the next request (keep-alive timeout).</summary>
    public void Idle(ServerConnection connection) => Enter(connection, ConnectionPhase.Idle, _keepAlive);

    /// <summary>After the last response, unread bytes are discarded until the linger time is over.</summary>
    public void Lingering(ServerConnection connection) => Enter(connection, ConnectionPhase.Linger, _linger);

    /// <summary>The connection switched protocols: the new protocol keeps its own deadlines.</summary>
    public void Upgraded(ServerConnection connection) => Enter(connection, ConnectionPhase.Upgraded, null);

    public void Closed(ServerConnection connection) => Enter(connection, ConnectionPhase.Closed, null);

    /// <summary>A flush waits for the client: the write timeout runs; returns what to restore once the bytes are out.</summary>
    public PhaseDeadline WriteStarted(ServerConnection connection)
    {
        var before = new PhaseDeadline(connection.Phase, connection.IsRunning ? connection.Due : null);
        Enter(connection, ConnectionPhase.Write, _write);
        return before;
    }

    /// <summary>The flush is done: back to the phase it interrupted, with that phase's deadline unchanged.</summary>
    public void WriteEnded(ServerConnection connection, PhaseDeadline before)
    {
        if (connection.Phase != ConnectionPhase.Write) return; // aborted or closed meanwhile
        connection.Phase = before.Phase;
        if (before.Due is long due && QueueOf(connection, before.Phase) is { } queue) queue.Start(connection, due);
        else connection.Stop();
    }

    /// <summary>The handler waits for body bytes: the minimum data rate is checked while it waits.</summary>
    public ConnectionPhase BodyWaitStarted(ServerConnection connection)
    {
        var before = connection.Phase;
        Enter(connection, ConnectionPhase.Body, _bodyRate);
        return before;
    }

    /// <summary>Body bytes came (or the wait failed): back to <paramref name="before"/>, the handler's phase, which has no deadline.</summary>
    public void BodyWaitEnded(ServerConnection connection, ConnectionPhase before)
    {
        if (connection.Phase == ConnectionPhase.Body) Enter(connection, before, null);
    }

    /// <summary>A connection's deadline passed (from its queue's timer).</summary>
    public void Expired(ServerConnection connection)
    {
        if (connection.IsAborted) return;
        switch (connection.Phase)
        {
            case ConnectionPhase.Head:
                // Nothing is being written in this phase: the 408 goes straight out before the close.
                connection.TimeOutHead();
                break;
            case ConnectionPhase.Handshake:
                TimeOut(connection, "TLS handshake timeout");
                break;
            case ConnectionPhase.Idle:
                TimeOut(connection, "keep-alive timeout");
                break;
            case ConnectionPhase.Write:
                TimeOut(connection, "the client does not read its response");
                break;
            case ConnectionPhase.Linger:
                connection.Abort("linger time over");
                break;
            case ConnectionPhase.Body:
                CheckBodyRate(connection);
                break;
        }
    }

    /// <summary>Stops every queue's timer (the loop's server is done).</summary>
    public void Clear()
    {
        _requestHead?.Clear();
        _keepAlive?.Clear();
        _write?.Clear();
        _linger?.Clear();
        _bodyRate?.Clear();
        _handshake?.Clear();
    }

    private void CheckBodyRate(ServerConnection connection)
    {
        var options = _server.Options;
        var state = connection.State!; // a connection waiting for body bytes has a request
        double seconds = (double)state.Body.WaitedTicks(_server.Now) / _server.Loop.Time.TimestampFrequency;
        if (seconds > options.MinRequestBodyDataRateGracePeriod.TotalSeconds && state.Parser.BodyBytesReceived < options.MinRequestBodyDataRate * seconds)
            TimeOut(connection, "request body arrives slower than the minimum data rate");
        else _bodyRate!.Start(connection); // look again in a second, while the wait lasts
    }

    private static void TimeOut(ServerConnection connection, string reason)
    {
        ServerMetrics.Timeouts.Add(1);
        connection.Abort(reason);
    }

    private DeadlineQueue? QueueOf(ServerConnection connection, ConnectionPhase phase) => phase switch
    {
        ConnectionPhase.Idle => connection.ServedAny ? _keepAlive : _requestHead,
        ConnectionPhase.Head => _requestHead,
        ConnectionPhase.Body => _bodyRate,
        ConnectionPhase.Write => _write,
        ConnectionPhase.Linger => _linger,
        ConnectionPhase.Handshake => _handshake,
        _ => null,
    };

    private void Enter(ServerConnection connection, ConnectionPhase phase, DeadlineQueue? queue)
    {
        connection.Phase = phase;
        if (queue is null) connection.Stop();
        else queue.Start(connection);
        _observer?.Invoke(phase);
    }

    private void Announce(ServerConnection connection, ConnectionPhase phase)
    {
        connection.Phase = phase;
        _observer?.Invoke(phase);
    }
}

/// <summary>A phase and its deadline (null for none), put back after a flush that had to wait.</summary>
internal readonly record struct PhaseDeadline(ConnectionPhase Phase, long? Due);
