namespace Meanwhile;

/// <summary>
/// Deadlines that all run for the same timeout: a FIFO list of entries and one loop timer. Starting, restarting and
/// stopping an entry are O(1) and allocate nothing, so a deadline can be reset on every request, where a timer per
/// request would cost an object and a cancellation each time.
/// </summary>
/// <remarks>
/// <para>
/// Every entry of a queue runs for <see cref="Timeout"/>, so entries fall due in the order they were started (Node.js
/// groups its timers by duration for the same reason, as the loop's own timer queue does): starting appends, stopping
/// unlinks. The one loop timer is armed for the oldest entry and is not moved when that entry stops early: when it
/// fires it expires what is due and re-arms for the new oldest entry. A queue that is reset on every request therefore
/// arms its timer about once per timeout period, and an expiry is exact to the loop's timer resolution. A run of the
/// timer expires at most 64 entries and leaves the rest to the next loop turn, so a wave of deadlines passing at once
/// (ten thousand slow clients) cannot stall the loop's other work for the whole wave.
/// </para>
/// <para>
/// An entry is an object of a class derived from <see cref="Entry"/>, usually the object whose deadline it is (a
/// connection, an exchange), so a deadline costs three fields rather than an object of its own. An entry runs in at
/// most one queue at a time; starting it in another queue moves it there.
/// </para>
/// <para>Loop thread only. Times are the loop's <see cref="TimeProvider"/> timestamps, so a virtual clock drives it in tests.</para>
/// </remarks>
public sealed class DeadlineQueue
{
    private const int ExpiriesPerTurn = 64;

    private readonly EventLoop _loop;
    private readonly long _ticks;
    private readonly End _end;
    private readonly ExpiryTimer _timer;
    private long _timerDue = long.MaxValue; // when the armed timer fires; MaxValue: none armed
    private bool _expiring;

    /// <summary>Creates an empty queue whose entries run for <paramref name="timeout"/> on <paramref name="loop"/>'s clock.</summary>
    /// <param name="loop">The loop whose timer and clock the queue uses.</param>
    /// <param name="timeout">How long each entry runs; rounded up to the clock's resolution, so nothing expires early.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not positive.</exception>
    public DeadlineQueue(EventLoop loop, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _loop = loop;
        Timeout = timeout;
        _ticks = (long)Math.Ceiling(timeout.Ticks * (double)loop.Time.TimestampFrequency / TimeSpan.TicksPerSecond);
        _end = new End();
        _timer = new ExpiryTimer(loop, this);
    }

    /// <summary>How long each entry runs.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>True when no entry runs.</summary>
    public bool IsEmpty => _end.Next == _end;

    /// <summary>(Re)starts <paramref name="entry"/>'s countdown now: it expires after <see cref="Timeout"/> unless stopped or restarted first.</summary>
    /// <param name="entry">The entry; if it runs (here or in another queue), it is moved to the end of this queue.</param>
    public void Start(Entry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        long now = _loop.Time.GetTimestamp();
        Start(entry, now > long.MaxValue - _ticks ? long.MaxValue : now + _ticks);
    }

    /// <summary>
    /// Starts <paramref name="entry"/> with a due time already known (a loop timestamp): a deadline carried over from an
    /// earlier start, say, after a pause in another queue. It takes its place among the entries by due time.
    /// </summary>
    /// <param name="entry">The entry; if it runs, it is moved here.</param>
    /// <param name="due">When it expires, on the loop's clock (<see cref="TimeProvider.GetTimestamp"/>).</param>
    public void Start(Entry entry, long due)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!_loop.IsLoopThread) throw new InvalidOperationException("A DeadlineQueue is used from its loop's thread.");
        entry.Unlink();
        entry.Due = due;
        // Normally the newest entry is due last; walk back only for a carried-over deadline. The end node's due time
        // is the smallest there is, so the walk stops there at the latest.
        Entry after = _end.Previous!;
        while (after.Due > due) after = after.Previous!;
        Entry before = after.Next!;
        entry.Previous = after;
        entry.Next = before;
        before.Previous = entry;
        after.Next = entry;
        if (!_expiring && due < _timerDue) Arm(due);
    }

    /// <summary>Stops every entry and the timer (the owner is shutting down).</summary>
    public void Clear()
    {
        while (_end.Next != _end) _end.Next!.Unlink();
        if (_timerDue != long.MaxValue)
        {
            _timerDue = long.MaxValue;
            _timer.Disarm();
        }
    }

    private void Arm(long due)
    {
        if (_timerDue != long.MaxValue) _timer.Disarm();
        _timerDue = due;
        long wait = Math.Max(0, due - _loop.Time.GetTimestamp());
        _timer.Arm(TimeSpan.FromTicks((long)Math.Ceiling(wait * (double)TimeSpan.TicksPerSecond / _loop.Time.TimestampFrequency)));
    }

    private void OnTimer()
    {
        _timerDue = long.MaxValue;
        long now = _loop.Time.GetTimestamp();
        _expiring = true;
        try
        {
            // An entry restarted by its own expiry goes to the end, due after now: the walk cannot meet it again. What
            // is left due after the budget gets a timer due at once, which fires on the next turn, after I/O.
            for (int expired = 0; expired < ExpiriesPerTurn && _end.Next is { } first && first != _end && first.Due <= now; expired++)
            {
                first.Unlink();
                first.Expire();
            }
        }
        finally
        {
            _expiring = false;
            if (_end.Next != _end) Arm(_end.Next!.Due);
        }
    }

    /// <summary>
    /// One deadline of a <see cref="DeadlineQueue"/>: derive the object whose deadline it is from it (or a small object
    /// that calls its owner), and start it in the queue of the timeout that applies.
    /// </summary>
    /// <remarks>
    /// The entries of a queue form a circular list closed by a node of the queue's own, so an entry leaves its queue
    /// without knowing which queue that is: no field for it.
    /// </remarks>
    public abstract class Entry
    {
        internal Entry? Previous; // neighbours in the queue's list; both null while the entry does not run
        internal Entry? Next;

        /// <summary>When it expires, on the loop's clock; meaningful while <see cref="IsRunning"/>.</summary>
        public long Due { get; internal set; }

        /// <summary>True between a start and the stop or expiry that follows it.</summary>
        public bool IsRunning => Next is not null;

        /// <summary>Stops the countdown (nothing happens if it does not run). Loop thread only.</summary>
        public void Stop() => Unlink();

        /// <summary>
        /// The deadline passed: runs on the loop thread from the queue's timer, after the entry has left the queue (it
        /// may start itself again). An exception goes to the loop's error handler.
        /// </summary>
        protected abstract void OnExpired();

        internal void Expire() => OnExpired();

        internal void Unlink()
        {
            if (Next is not { } next) return;
            var previous = Previous!;
            previous.Next = next;
            next.Previous = previous;
            Previous = Next = null;
        }
    }

    /// <summary>The node that closes a queue's circle: its next is the oldest entry, its previous the newest.</summary>
    private sealed class End : Entry
    {
        public End()
        {
            Previous = Next = this;
            Due = long.MinValue;
        }

        protected override void OnExpired() => throw new InvalidOperationException("The end of a deadline queue never expires.");
    }

    /// <summary>The queue's one timer, armed again and again without allocating.</summary>
    private sealed class ExpiryTimer(EventLoop loop, DeadlineQueue queue) : TimerEntry(loop)
    {
        private bool _queued;

        public void Arm(TimeSpan delay) => Loop.ArmTimer(this, delay);

        public void Disarm()
        {
            if (IsInQueue) Loop.Timers.Remove(this);
        }

        internal override void Fire()
        {
            if (_queued) return;
            _queued = true;
            Loop.EnqueueReady(new ReadyItem(this));
        }

        public override void Execute()
        {
            _queued = false;
            try
            {
                queue.OnTimer();
            }
            catch (Exception e)
            {
                Loop.ReportError(e, "a deadline's expiry threw", null);
            }
        }
    }
}
