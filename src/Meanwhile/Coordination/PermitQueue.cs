using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// Permits and the tasks waiting for one, first come first served: the engine of <see cref="LoopLock"/> (one permit)
/// and <see cref="LoopSemaphore"/>. A released permit goes straight to the waiter that waited longest, so a task that
/// releases and asks again goes behind it (no barging), and while anyone waits no permit is free.
/// </summary>
/// <remarks>
/// A lock handed back and forth between tasks is mostly this bookkeeping, so it avoids GC write barriers where it can:
/// the waiter nodes it keeps are linked once and marked free rather than moved to a spare list, and a lone waiter is
/// the list's only reference (see <see cref="_last"/>).
/// </remarks>
internal sealed class PermitQueue(WaitKind kind, string? name, int available)
{
    /// <summary>Nodes kept for later waits; more waiters at once than this allocate nodes the GC takes back.</summary>
    private const int MaxKept = 8;

    private EventLoop? _loop;
    private PermitWaiter? _first; // the waiters, in arrival order, through Next and Previous
    private PermitWaiter? _last;  // null while the list holds one waiter or none: appending a lone waiter is one store
    private PermitWaiter? _kept;  // the kept nodes, through NextKept
    private int _keptCount;

    public string? Name => name;

    /// <summary>Permits nobody holds; never more than 0 while someone waits.</summary>
    public int Available { get; private set; } = available;

    /// <summary>The loop the queue belongs to, once <see cref="Enter"/> was called.</summary>
    public EventLoop Loop => _loop!;

    public WaitReason Reason => new(kind, 0, name);

    public LoopTask? Enter() => LoopAffinity.Enter(ref _loop);

    /// <summary><see cref="Enter"/> for an operation that needs no task.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Check() => LoopAffinity.Check(ref _loop);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAcquire()
    {
        if (Available == 0) return false;
        Available--;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PermitAwaitable AcquireAsync(LoopTask? owner, CancellationToken cancellationToken) =>
        TryAcquire() ? default : WaitForPermit(owner, cancellationToken);

    private PermitAwaitable WaitForPermit(LoopTask? owner, CancellationToken cancellationToken)
    {
        var waiter = Rent();
        if (waiter.Start(cancellationToken, owner)) Append(waiter);
        return waiter.AsAwaitable();
    }

    /// <summary>Waits for a permit whatever happens to <paramref name="owner"/> (a condition taking its lock back).</summary>
    public PermitAwaitable AcquireShieldedAsync(LoopTask? owner)
    {
        if (TryAcquire()) return default;
        var waiter = Rent();
        waiter.StartShielded(owner);
        Append(waiter);
        return waiter.AsAwaitable();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Release(int count)
    {
        if (_first is null) Available += count;
        else GrantWaiters(count);
    }

    private void GrantWaiters(int count)
    {
        while (count > 0 && _first is { } waiter)
        {
            Remove(waiter);
            waiter.Grant();
            count--;
        }
        Available += count;
    }

    /// <summary>A free node: a kept one, or a new one (kept if there is room).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private PermitWaiter Rent()
    {
        for (var node = _kept; node is not null; node = node.NextKept)
            if (node.IsFree) return node;
        return NewNode();
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // rare: kept out of the usual wait's code
    private PermitWaiter NewNode()
    {
        if (_keptCount == MaxKept) return new PermitWaiter(this, null);
        _keptCount++;
        return _kept = new PermitWaiter(this, _kept);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Append(PermitWaiter waiter)
    {
        // A node out of the list has null links (Remove clears them).
        var first = _first;
        if (first is null)
        {
            _first = waiter;
            return;
        }
        var last = _last ?? first;
        waiter.Previous = last;
        last.Next = waiter;
        _last = waiter;
    }

    /// <summary>Takes a cancelled waiter out if it is in the list.</summary>
    public void Unlink(PermitWaiter waiter)
    {
        if (waiter.Previous is not null || ReferenceEquals(_first, waiter)) Remove(waiter);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Remove(PermitWaiter waiter)
    {
        var next = waiter.Next;
        var previous = waiter.Previous;
        if (previous is null && next is null)
        {
            _first = _last = null; // the lone waiter: constant nulls need no GC write barrier
            return;
        }
        if (previous is null) _first = next;
        else previous.Next = next;
        if (next is null) _last = previous;
        else next.Previous = previous;
        waiter.Next = waiter.Previous = null;
    }
}
