namespace Meanwhile.Http.Client;

/// <summary>
/// The client's exchanges, reused from call to call (a warm request allocates none), and the batching of their heads:
/// with other exchanges out, a head goes out at the loop's next turn together with every other head of this turn.
/// </summary>
/// <remarks>
/// Why batch: the answers a poll brought are all read before the next requests go out, as wrk does. Sent one by one,
/// each request woke the server for itself; sent together, the server takes them in one wake-up (fewer of its
/// epoll_waits per request). Alone, the extra turn would only add latency, so a lone request goes out at once.
/// Loop thread only.
/// </remarks>
internal sealed class ExchangePool
{
    private readonly ClientContext _context;
    private readonly Origins _origins;
    private readonly Stack<Exchange> _free = new();
    private readonly Queue<RoundTrip> _sends = new();
    private readonly Action _sendQueued;
    private bool _sendScheduled;

    public ExchangePool(ClientContext context, Origins origins)
    {
        _context = context;
        _origins = origins;
        _sendQueued = SendQueued;
    }

    /// <summary>Calls of <see cref="LoopHttpClient.SendAsync"/> whose response is not disposed yet.</summary>
    public int Out { get; private set; }

    /// <summary>Whether a head written now should wait for the next turn's batch instead.</summary>
    public bool ShouldQueue => Out > 1 || _sendScheduled;

    public Exchange Rent()
    {
        Out++;
        return _free.TryPop(out var reused) ? reused : new Exchange(_context, _origins, this);
    }

    public void Return(Exchange exchange)
    {
        Out--;
        _free.Push(exchange);
    }

    /// <summary>Sends <paramref name="trip"/>'s head at the loop's next turn, with the others of this turn.</summary>
    public void QueueSend(RoundTrip trip)
    {
        _sends.Enqueue(trip);
        if (!_sendScheduled)
        {
            _sendScheduled = true;
            _context.Loop.CallSoon(_sendQueued);
        }
    }

    private void SendQueued()
    {
        var context = SynchronizationContext.Current;
        try
        {
            // A caller resumed by a failure here may queue another request: it goes out in this round too.
            while (_sends.TryDequeue(out var trip))
            {
                // The read that follows the write must belong to the caller's task, as if it had started at once: the
                // loop knows the task by this context (its introspection shows the wait; cancelling the task ends it).
                SynchronizationContext.SetSynchronizationContext(trip.QueuedContext);
                trip.SendHead();
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
            _sendScheduled = false;
            if (_sends.Count > 0)
            {
                _sendScheduled = true;
                _context.Loop.CallSoon(_sendQueued);
            }
        }
    }
}
