using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>A primitive's waiters in arrival order (first come, first served): an intrusive doubly linked list, so a
/// cancelled waiter leaves it in O(1) and a pending wait costs no list node.</summary>
internal struct WaiterList
{
    public Waiter? First;
    private Waiter? _last;

    public readonly bool IsEmpty => First is null;

    public void Append(Waiter waiter)
    {
        waiter.Previous = _last;
        waiter.Next = null;
        if (_last is null) First = waiter;
        else _last.Next = waiter;
        _last = waiter;
    }

    /// <summary>Takes the first waiter out, or returns null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Waiter? TakeFirst()
    {
        var first = First;
        if (first is not null) Remove(first);
        return first;
    }

    /// <summary>Takes <paramref name="waiter"/> out if it is in this list.</summary>
    public void Unlink(Waiter waiter)
    {
        if (waiter.Previous is not null || ReferenceEquals(First, waiter)) Remove(waiter);
    }

    private void Remove(Waiter waiter)
    {
        if (waiter.Previous is null) First = waiter.Next;
        else waiter.Previous.Next = waiter.Next;
        if (waiter.Next is null) _last = waiter.Previous;
        else waiter.Next.Previous = waiter.Previous;
        waiter.Next = waiter.Previous = null;
    }
}

/// <summary>A primitive's few spare waiter nodes, so that a warm wait allocates nothing.</summary>
internal struct SpareWaiters
{
    private const int Max = 8;
    private Waiter? _first;
    private int _count;

    public Waiter? Take()
    {
        var waiter = _first;
        if (waiter is null) return null;
        _first = waiter.Next;
        waiter.Next = null;
        _count--;
        return waiter;
    }

    public void Keep(Waiter waiter)
    {
        if (_count == Max) return;
        waiter.Next = _first;
        _first = waiter;
        _count++;
    }
}
