namespace Meanwhile.Timers;

/// <summary>
/// The loop's timers, grouped by duration as Node.js does: timers of one duration are due in the order they were
/// armed (the clock only moves forward), so each duration keeps a FIFO list, and a small binary heap orders the
/// lists by their first deadline. Arming, firing and cancelling a timer are O(1) for a duration already in use
/// (O(log d) for d distinct durations otherwise), and firing walks the list in creation order rather than
/// sifting a heap of a million scattered timers.
/// </summary>
/// <remarks>Timers fire in (deadline, arming) order across all lists.</remarks>
internal sealed class TimerQueue
{
    private readonly Dictionary<long, TimerList> _lists = new();
    private TimerList? _lastUsed; // the list of the last arming: a loop arms the same duration again and again
    private TimerList[] _heap = new TimerList[16];
    private int _heapCount;
    private int _count;

    /// <summary>How many timers are armed.</summary>
    public int Count => _count;

    /// <summary>The earliest deadline; only valid when <see cref="Count"/> is not zero.</summary>
    public long NextDeadline => _heap[0].Head!.Deadline;

    /// <summary>Arms <paramref name="entry"/> (its deadline already set), armed for <paramref name="duration"/> clock ticks.</summary>
    public void Add(TimerEntry entry, long duration)
    {
        var list = _lastUsed;
        if (list is null || list.Duration != duration)
        {
            if (!_lists.TryGetValue(duration, out list))
            {
                list = new TimerList(duration);
                _lists.Add(duration, list);
            }
            _lastUsed = list;
        }
        bool wasEmpty = list.Head is null;
        list.Insert(entry);
        _count++;
        if (wasEmpty) HeapPush(list);
    }

    /// <summary>Disarms <paramref name="entry"/> (it must be armed).</summary>
    public void Remove(TimerEntry entry)
    {
        var list = entry.List!;
        bool wasHead = list.Head == entry;
        list.Unlink(entry);
        _count--;
        if (!wasHead) return;
        if (list.Head is null)
        {
            HeapRemoveAt(list.HeapIndex);
            _lists.Remove(list.Duration);
            if (_lastUsed == list) _lastUsed = null;
        }
        else SiftDown(list.HeapIndex); // its first deadline moved later
    }

    /// <summary>Removes and returns the earliest timer if it is due at <paramref name="now"/>.</summary>
    public TimerEntry? PopDue(long now)
    {
        if (_heapCount == 0) return null;
        var first = _heap[0].Head!;
        if (first.Deadline > now) return null;
        Remove(first);
        return first;
    }

    private static bool Before(TimerList a, TimerList b)
    {
        long x = a.Head!.Deadline, y = b.Head!.Deadline;
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

    /// <summary>The armed timers of one duration, in deadline order (a doubly linked list through the entries).</summary>
    internal sealed class TimerList(long duration)
    {
        public readonly long Duration = duration;
        public TimerEntry? Head;
        public TimerEntry? Tail;
        public int HeapIndex = -1;

        public void Insert(TimerEntry entry)
        {
            entry.List = this;
            // Normally the newest timer is due last; walk back only if the clock's timestamps did not grow.
            var after = Tail;
            while (after is not null && after.Deadline > entry.Deadline) after = after.Previous;
            entry.Previous = after;
            entry.Next = after is null ? Head : after.Next;
            if (entry.Next is null) Tail = entry; else entry.Next.Previous = entry;
            if (after is null) Head = entry; else after.Next = entry;
        }

        public void Unlink(TimerEntry entry)
        {
            if (entry.Previous is null) Head = entry.Next; else entry.Previous.Next = entry.Next;
            if (entry.Next is null) Tail = entry.Previous; else entry.Next.Previous = entry.Previous;
            entry.Previous = entry.Next = null;
            entry.List = null;
        }
    }
}
