namespace Meanwhile;

/// <summary>
/// A <see cref="LoopQueue{T}"/> that gives out the smallest item first (asyncio's <c>PriorityQueue</c>), by a comparer;
/// items that compare equal come out in the order they were put. Put <c>(priority, value)</c> tuples to order values
/// by a priority.
/// </summary>
/// <typeparam name="T">The items' type.</typeparam>
public sealed class LoopPriorityQueue<T> : LoopQueue<T>
{
    private readonly IComparer<T> _comparer;
    private (T Item, long Order)[] _heap = [];
    private int _count;
    private long _nextOrder;       // arrival order, which breaks ties
    private long _nextRestoreOrder = -1; // items given back by cancelled getters go ahead of their equals

    /// <summary>Creates a priority queue.</summary>
    /// <param name="comparer">How items compare (smallest first); null for <see cref="Comparer{T}.Default"/>.</param>
    /// <param name="capacity">How many items it holds before puts wait; null for no limit.</param>
    /// <param name="name">A name for introspection.</param>
    public LoopPriorityQueue(IComparer<T>? comparer = null, int? capacity = null, string? name = null) : base(capacity, name, ownStorage: true) =>
        _comparer = comparer ?? Comparer<T>.Default;

    private protected override int StoredCount => _count;

    private protected override void Store(T item) => Push(item, _nextOrder++);

    private protected override void Restore(T item) => Push(item, _nextRestoreOrder--);

    private protected override T Take()
    {
        var top = _heap[0].Item;
        var last = _heap[--_count];
        _heap[_count] = default;
        if (_count > 0) SiftDown(last);
        return top;
    }

    private void Push(T item, long order)
    {
        if (_count == _heap.Length) Array.Resize(ref _heap, Math.Max(8, _heap.Length * 2));
        int i = _count++;
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Less(item, order, _heap[parent])) break;
            _heap[i] = _heap[parent];
            i = parent;
        }
        _heap[i] = (item, order);
    }

    private void SiftDown((T Item, long Order) entry)
    {
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= _count) break;
            if (child + 1 < _count && Less(_heap[child + 1].Item, _heap[child + 1].Order, _heap[child])) child++;
            if (!Less(_heap[child].Item, _heap[child].Order, entry)) break;
            _heap[i] = _heap[child];
            i = child;
        }
        _heap[i] = entry;
    }

    private bool Less(T item, long order, (T Item, long Order) other)
    {
        int c = _comparer.Compare(item, other.Item);
        return c < 0 || (c == 0 && order < other.Order);
    }
}
