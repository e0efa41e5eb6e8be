namespace Meanwhile.Timers;

/// <summary>
/// The loop's timers as a binary min-heap ordered by (deadline, sequence): O(log n) add and remove,
/// O(1) peek at the next deadline the loop must wake for.
/// </summary>
internal sealed class TimerQueue
{
    private TimerEntry[] _heap = new TimerEntry[64];
    private int _count;
    private long _nextSequence;

    public int Count => _count;

    public long NextDeadline => _heap[0].Deadline;

    public void Add(TimerEntry entry)
    {
        if (_count == _heap.Length) Array.Resize(ref _heap, _heap.Length * 2);
        entry.Sequence = _nextSequence++;
        int index = _count++;
        _heap[index] = entry;
        entry.HeapIndex = index;
        SiftUp(index);
    }

    public void Remove(TimerEntry entry)
    {
        int index = entry.HeapIndex;
        entry.HeapIndex = -1;
        int last = --_count;
        if (index != last)
        {
            var moved = _heap[last];
            _heap[index] = moved;
            moved.HeapIndex = index;
            _heap[last] = null!;
            SiftDown(index);
            SiftUp(moved.HeapIndex);
        }
        else
        {
            _heap[last] = null!;
        }
        ShrinkIfSparse();
    }

    /// <summary>Removes and returns the earliest timer if it is due at <paramref name="now"/>.</summary>
    public TimerEntry? PopDue(long now)
    {
        if (_count == 0 || _heap[0].Deadline > now) return null;
        var first = _heap[0];
        Remove(first);
        return first;
    }

    private void ShrinkIfSparse()
    {
        // After a burst (a million sleeps) give the memory back.
        if (_heap.Length > 1024 && _count < _heap.Length / 4)
            Array.Resize(ref _heap, _heap.Length / 2);
    }

    private static bool Before(TimerEntry a, TimerEntry b) =>
        a.Deadline < b.Deadline || (a.Deadline == b.Deadline && a.Sequence < b.Sequence);

    private void SiftUp(int index)
    {
        var entry = _heap[index];
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            var parentEntry = _heap[parent];
            if (!Before(entry, parentEntry)) break;
            _heap[index] = parentEntry;
            parentEntry.HeapIndex = index;
            index = parent;
        }
        _heap[index] = entry;
        entry.HeapIndex = index;
    }

    private void SiftDown(int index)
    {
        var entry = _heap[index];
        int half = _count >> 1;
        while (index < half)
        {
            int child = 2 * index + 1;
            var childEntry = _heap[child];
            int right = child + 1;
            if (right < _count && Before(_heap[right], childEntry))
            {
                child = right;
                childEntry = _heap[right];
            }
            if (!Before(childEntry, entry)) break;
            _heap[index] = childEntry;
            childEntry.HeapIndex = index;
            index = child;
        }
        _heap[index] = entry;
        entry.HeapIndex = index;
    }
}
