namespace Meanwhile;

/// <summary>When a network event runs: its virtual time, then a number drawn from the seed among events of the same time.</summary>
internal readonly record struct EventKey(long Time, ulong Tie)
{
    public bool Precedes(EventKey other) => Time != other.Time ? Time < other.Time : Tie < other.Tie;
}

/// <summary>
/// The network's events by <see cref="EventKey"/>: the quaternary min-heap of <see cref="PriorityQueue{TElement, TPriority}"/>
/// (the same moves, so the same order), stored in chunks that are added as it grows and never copied. Ten thousand
/// connections opened at once put twenty thousand events in it: one array doubling to that size allocates (and first
/// touches) twice its final size, on the large-object heap; chunks allocate the peak once.
/// </summary>
internal sealed class NetworkEventQueue
{
    private const int ChunkBits = 10; // 1,024 entries of 24 bytes: below the large-object threshold
    private const int ChunkSize = 1 << ChunkBits;
    private const int ChunkMask = ChunkSize - 1;
    private const int Arity = 4;

    private (NetworkEvent Event, EventKey Key)[][] _chunks = [];
    private (NetworkEvent Event, EventKey Key)[] _first = []; // _chunks[0]: most heaps never leave it, and reach it with one load
    private int _count;

    public int Count => _count;

    public void Enqueue(NetworkEvent e, EventKey key)
    {
        int index = _count;
        if ((index >> ChunkBits) == _chunks.Length)
        {
            Array.Resize(ref _chunks, _chunks.Length + 1);
            _chunks[^1] = new (NetworkEvent, EventKey)[ChunkSize];
            if (_chunks.Length == 1) _first = _chunks[0];
        }
        _count = index + 1;
        // Up from the new leaf while the parent comes later.
        while (index > 0)
        {
            int parent = (index - 1) >> 2;
            ref var parentEntry = ref At(parent);
            if (!key.Precedes(parentEntry.Key)) break;
            Move(ref parentEntry, ref At(index));
            index = parent;
        }
        ref var slot = ref At(index);
        slot.Event = e;
        slot.Key = key;
    }

    public bool TryPeek(out NetworkEvent e, out EventKey key)
    {
        if (_count == 0)
        {
            e = null!;
            key = default;
            return false;
        }
        (e, key) = _first[0];
        return true;
    }

    /// <summary>Removes the first event (the queue is not empty).</summary>
    public void Dequeue()
    {
        int last = --_count;
        if (last > 0)
        {
            var node = At(last);
            // Down from the root while a child comes first.
            int index = 0, child;
            while ((child = (index << 2) + 1) < last)
            {
                int minChild = child;
                ref var min = ref At(child);
                int end = Math.Min(child + Arity, last);
                while (++child < end)
                {
                    ref var next = ref At(child);
                    if (next.Key.Precedes(min.Key))
                    {
                        min = ref next;
                        minChild = child;
                    }
                }
                if (!min.Key.Precedes(node.Key)) break;
                Move(ref min, ref At(index));
                index = minChild;
            }
            Move(ref node, ref At(index));
        }
        At(last) = default; // the event may be collected
    }

    private ref (NetworkEvent Event, EventKey Key) At(int index) =>
        ref index < ChunkSize ? ref _first[index] : ref _chunks[index >> ChunkBits][index & ChunkMask];

    /// <summary>Field by field: a whole-entry copy goes through the runtime's by-reference write-barrier helper.</summary>
    private static void Move(ref (NetworkEvent Event, EventKey Key) from, ref (NetworkEvent Event, EventKey Key) to)
    {
        to.Event = from.Event;
        to.Key = from.Key;
    }
}
