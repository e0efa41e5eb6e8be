
namespace Meanwhile.Http.Client;

/// <summary>
/// The exchanges running under one timeout of the client (the whole-request timeout, or one phase's): a FIFO list
/// and one loop timer, instead of a timer and a cancellation source per request.
/// </summary>
/// <remarks>
/// <para>
/// Every entry of a queue has the same duration, so deadlines fall due in the order they were armed (Node.js groups
/// its timers by duration for the same reason): adding is an append, removing an unlink, both O(1) and allocation
/// free (the entries belong to pooled <see cref="Exchange"/>s). One loop timer is armed for the oldest deadline; it
/// is not moved when that entry leaves early, it fires, expires what is due and re-arms for the new oldest entry —
/// so a busy client arms it about once per timeout period, not once per request, and an expiry is exact to the
/// loop's timer resolution (a server-style one-second heartbeat would make a 200 ms timeout fire up to a second late).
/// </para>
/// <para>Loop thread only. Times are the loop's <see cref="TimeProvider"/> timestamps, so a virtual clock drives it in tests.</para>
/// </remarks>
internal sealed class DeadlineQueue
{
    private readonly EventLoop _loop;
    private readonly long _ticks;
    private readonly Action _onTimer;
    private DeadlineEntry? _head;
    private DeadlineEntry? _tail;
    private TimerHandle _timer;
    private long _timerDue = long.MaxValue; // when the armed timer fires (MaxValue: none armed)

    public DeadlineQueue(EventLoop loop, TimeSpan timeout)
    {
        this._loop = loop;
        Timeout = timeout;
        // Rounded up: an exchange never expires early.
        _ticks = (long)Math.Ceiling(timeout.Ticks * (double)loop.Time.TimestampFrequency / TimeSpan.TicksPerSecond);
        _onTimer = OnTimer;
    }

    public TimeSpan Timeout { get; }

    /// <summary>Starts <paramref name="entry"/>'s countdown now.</summary>
    public void Add(DeadlineEntry entry)
    {
        entry.Deadline = _loop.Time.GetTimestamp() + _ticks;
        entry.Queue = this;
        entry.Previous = _tail;
        entry.Next = null;
        if (_tail is null)
        {
            _head = entry;
        }
        else
        {
            _tail.Next = entry;
        }

        _tail = entry;
        if (_timerDue == long.MaxValue)
        {
            Arm(entry.Deadline);
        }
    }

    /// <summary>Stops <paramref name="entry"/>'s countdown (no effect if it is not in this queue).</summary>
    public void Remove(DeadlineEntry entry)
    {
        if (entry.Queue != this)
        {
            return;
        }

        if (entry.Previous is null)
        {
            _head = entry.Next;
        }
        else
        {
            entry.Previous.Next = entry.Next;
        }

        if (entry.Next is null)
        {
            _tail = entry.Previous;
        }
        else
        {
            entry.Next.Previous = entry.Previous;
        }

        entry.Previous = entry.Next = null;
        entry.Queue = null;
    }

    private void Arm(long deadline)
    {
        long now = _loop.Time.GetTimestamp();
        long wait = Math.Max(0, deadline - now);
        _timerDue = deadline;
        _timer = _loop.CallLater(TimeSpan.FromTicks((long)Math.Ceiling(wait * (double)TimeSpan.TicksPerSecond / _loop.Time.TimestampFrequency)), _onTimer);
    }

    private void OnTimer()
    {
        _timerDue = long.MaxValue;
        long now = _loop.Time.GetTimestamp();
        while (_head is { } entry && entry.Deadline <= now)
        {
            Remove(entry);
            entry.Expire();
        }

        if (_head is { } next)
        {
            Arm(next.Deadline);
        }
    }

    /// <summary>Stops the timer (the client is disposed).</summary>
    public void Stop()
    {
        _timer.Cancel();
        _timerDue = long.MaxValue;
    }
}

/// <summary>A place in a <see cref="DeadlineQueue"/>, owned by an <see cref="Exchange"/> and reused with it.</summary>
internal sealed class DeadlineEntry(Exchange owner)
{
    public DeadlineEntry? Previous;
    public DeadlineEntry? Next;
    public DeadlineQueue? Queue;
    public long Deadline;
    public LoopHttpErrorKind Kind;

    public bool IsArmed => Queue is not null;

    public void Expire() => owner.Expire(Kind);
}

/// <summary>The client's timeouts as deadline queues; null where the options set none.</summary>
internal sealed class ClientTimeouts(EventLoop loop, LoopHttpClientOptions options)
{
    public DeadlineQueue? Request { get; } = options.RequestTimeout is { } t ? new DeadlineQueue(loop, t) : null;

    public DeadlineQueue? Connect { get; } = options.ConnectTimeout is { } t ? new DeadlineQueue(loop, t) : null;

    public DeadlineQueue? ResponseHeaders { get; } = options.ResponseHeadersTimeout is { } t ? new DeadlineQueue(loop, t) : null;
}
