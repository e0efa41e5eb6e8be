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
        waiter.Next = null;
        var last = _last;
        if (last is null)
        {
            waiter.Previous = null; // the usual lone waiter: a null is stored without a GC write barrier
            First = waiter;
        }
        else
        {
            waiter.Previous = last;
            last.Next = waiter;
        }
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
        if (waiter.Previous is null && waiter.Next is null)
        {
            First = _last = null; // the lone waiter: constant nulls need no GC write barrier
            return;
        }
        if (waiter.Previous is null) First = waiter.Next;
        else waiter.Previous.Next = waiter.Next;
        if (waiter.Next is null) _last = waiter.Previous;
        else waiter.Next.Previous = waiter.Previous;
        waiter.Next = waiter.Previous = null;
    }
}

/// <summary>
/// A primitive's few spare waiter nodes, so that a warm wait allocates nothing. The one a lone waiter recycles and takes
/// again, turn after turn, sits in its own field: no list to link, so fewer GC write barriers on that path.
/// </summary>
internal struct SpareWaiters
{
    private const int Max = 8;
    private Waiter? _one;
    private Waiter? _more; // a list through Next
    private int _moreCount;

    public Waiter? Take()
    {
        var waiter = _one;
        if (waiter is not null)
        {
            _one = null;
            return waiter;
        }
        waiter = _more;
        if (waiter is null) return null;
        _more = waiter.Next;
        waiter.Next = null;
        _moreCount--;
        return waiter;
    }

    public void Keep(Waiter waiter)
    {
        if (_one is null)
        {
            _one = waiter;
            return;
        }
        if (_moreCount == Max - 1) return;
        waiter.Next = _more;
        _more = waiter;
        _moreCount++;
    }
}
