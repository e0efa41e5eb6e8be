namespace Meanwhile;

/// <summary>
/// The loop's timers, grouped by duration as Node.js does: timers of one duration are due in the order they were
/// armed (the clock only moves forward), so each duration keeps a FIFO list, and a small binary heap orders the
/// lists by their first deadline. Arming, firing and cancelling a timer are O(1) for a duration already in use
/// (O(log d) for d distinct durations otherwise), and firing walks the list in creation order rather than
/// sifting a heap of a million scattered timers.
/// </summary>
/// <remarks>Timers fire in (deadline, arming) order across all lists.</remarks>
internal sealed class TimerQueue(EventLoop loop)
{
    private readonly Dictionary<long, TimerList> _lists = new();
    private TimerList? _lastUsed; // the list of the last arming: a loop arms the same duration again and again
    private TimerList[] _heap = new TimerList[16];
    private int _heapCount;
    private int _count;

    /// <summary>
    /// How many timers the program has armed. The lag probe's timer is not one of them: watching the loop must not change
    /// what it shows, and the probe, out of the queue from its firing until its callback re-arms it, would make the
    /// figure flicker for whoever reads it in between (and it runs on every loop while anyone listens for lag).
    /// </summary>
    public int Count => _count;

    /// <summary>Whether no timer at all is armed, the lag probe's included.</summary>
    public bool IsEmpty => _heapCount == 0;

    /// <summary>The earliest deadline; only valid when the queue is not <see cref="IsEmpty"/>.</summary>
    public long NextDeadline => _heap[0].First.Deadline;

    /// <summary>Arms <paramref name="entry"/> (its deadline already set), armed for <paramref name="duration"/> clock ticks.</summary>
    public void Add(TimerEntry entry, long duration)
    {
        var list = _lastUsed;
        if (list is null || list.Duration != duration)
        {
            if (!_lists.TryGetValue(duration, out list))
            {
                list = new TimerList(duration, loop);
                _lists.Add(duration, list);
            }
            _lastUsed = list;
        }
        bool wasEmpty = list.IsEmpty;
        list.Insert(entry);
        if (entry is not LagProbe.ProbeTimer) _count++;
        if (wasEmpty) HeapPush(list);
    }

    /// <summary>Disarms <paramref name="entry"/> (it must be armed).</summary>
    public void Remove(TimerEntry entry)
    {
        var previous = entry.Previous!;
        var next = entry.Next!;
        previous.Next = next;
        next.Previous = previous;
        entry.Previous = entry.Next = null;
        if (entry is not LagProbe.ProbeTimer) _count--;
        // Only the first timer of a list orders the heap: the list matters only if the entry was one.
        if (previous is not TimerList.End end) return;
        var list = end.List;
        if (list.IsEmpty)
        {
            HeapRemoveAt(list.HeapIndex);
            _lists.Remove(list.Duration);
            if (_lastUsed == list) _lastUsed = null;
        }
        else SiftDown(list.HeapIndex); // its first deadline moved later
    }

    /// <summary>
    /// Moves <paramref name="entry"/>'s deadline later, to <paramref name="deadline"/>. The entry must be the last of its
    /// list (nothing of its duration armed since), so the list stays in deadline order.
    /// </summary>
    public void Postpone(TimerEntry entry, long deadline)
    {
        System.Diagnostics.Debug.Assert(entry.Next is TimerList.End && deadline >= entry.Deadline);
        entry.Deadline = deadline;
        if (entry.Previous is TimerList.End end) SiftDown(end.List.HeapIndex); // it heads its list: the list's key moved
    }

    /// <summary>Removes and returns the earliest timer if it is due at <paramref name="now"/>.</summary>
    public TimerEntry? PopDue(long now)
    {
        if (_heapCount == 0) return null;
        var first = _heap[0].First;
        if (first.Deadline > now) return null;
        Remove(first);
        return first;
    }

    private static bool Before(TimerList a, TimerList b)
    {
        long x = a.First.Deadline, y = b.First.Deadline;
        // Equal deadlines: the one armed first goes first. Arming time is deadline minus duration, and the clock never
        // goes back, so an earlier arming time means armed earlier; equal arming times with equal deadlines mean equal
        // durations, that is the same list, where order is arming order anyway. No sequence number per timer needed.
        return x < y || (x == y && x - a.Duration < y - b.Duration);
    }

    private void HeapPush(TimerList list)
    {
        if (_heapCount == _heap.Length) Array.Resize(ref _heap, _heap.Length * 2);
        int index = _heapCount++;
        _heap[index] = list;
        list.HeapIndex = index;
        SiftUp(index);
    }

    private void HeapRemoveAt(int index)
    {
        var removed = _heap[index];
        removed.HeapIndex = -1;
        int last = --_heapCount;
        if (index != last)
        {
            var moved = _heap[last];
            _heap[index] = moved;
            moved.HeapIndex = index;
            _heap[last] = null!;
            SiftDown(index);
            SiftUp(moved.HeapIndex);
        }
        else _heap[last] = null!;
    }

    private void SiftUp(int index)
    {
        var list = _heap[index];
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            var parentList = _heap[parent];
            if (!Before(list, parentList)) break;
            _heap[index] = parentList;
            parentList.HeapIndex = index;
            index = parent;
        }
        _heap[index] = list;
        list.HeapIndex = index;
    }

    private void SiftDown(int index)
    {
        var list = _heap[index];
        int half = _heapCount >> 1;
        while (index < half)
        {
            int child = 2 * index + 1;
            var childList = _heap[child];
            int right = child + 1;
            if (right < _heapCount && Before(_heap[right], childList))
            {
                child = right;
                childList = _heap[right];
            }
            if (!Before(childList, list)) break;
            _heap[index] = childList;
            childList.HeapIndex = index;
            index = child;
        }
        _heap[index] = list;
        list.HeapIndex = index;
    }

    /// <summary>
    /// The armed timers of one duration, in deadline order: a circular doubly linked list through the entries and an
    /// end node, so that a timer leaves its list without knowing which list it is in (no list field in every timer).
    /// </summary>
    internal sealed class TimerList
    {
        public readonly long Duration;
        private readonly End _end;
        public int HeapIndex = -1;

        public TimerList(long duration, EventLoop loop)
        {
            Duration = duration;
            _end = new End(loop, this);
            _end.Previous = _end.Next = _end;
        }

        public bool IsEmpty => _end.Next == _end;

        /// <summary>The timer due first; only valid when the list is not empty.</summary>
        public TimerEntry First => _end.Next!;

        public void Insert(TimerEntry entry)
        {
            // Normally the newest timer is due last; walk back only if the clock's timestamps did not grow. The end
            // node's deadline is the smallest there is, so the walk stops there at the latest.
            var after = _end.Previous!;
            while (after.Deadline > entry.Deadline) after = after.Previous!;
            var before = after.Next!;
            entry.Previous = after;
            entry.Next = before;
            before.Previous = entry;
            after.Next = entry;
        }

        /// <summary>The node that closes the circle: its next is the first timer, its previous the last.</summary>
        internal sealed class End : TimerEntry
        {
            public readonly TimerList List;

            public End(EventLoop loop, TimerList list) : base(loop)
            {
                List = list;
                Deadline = long.MinValue;
            }
        }
    }
}
