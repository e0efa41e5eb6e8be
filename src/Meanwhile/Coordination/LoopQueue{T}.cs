using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A first-in first-out queue for tasks on one loop (asyncio's <c>Queue</c>, tokio's <c>mpsc</c>), unbounded or
/// bounded: getters wait while it is empty, putters while it is full. <see cref="LoopLifoQueue{T}"/> and
/// <see cref="LoopPriorityQueue{T}"/> take items in another order.
/// </summary>
/// <remarks>
/// <para>
/// Every member is for the loop's thread (the queue belongs to the loop that first uses it); other threads put through
/// <see cref="ThreadSafeProducer"/>. A put or get that does not wait allocates nothing.
/// </para>
/// <para>
/// Waits are served first come, first served: an item put while getters wait goes to the one that waited longest, and
/// room goes to the putter that waited longest. A wait ends with <see cref="OperationCanceledException"/> when its
/// task, or a scope around it (<see cref="EventLoop.WithTimeout(TimeSpan, Func{CancellationToken, Task})"/>, a
/// <see cref="TaskGroup"/>), is cancelled, without a token; it shows in <see cref="EventLoop.GetTasks"/>.
/// </para>
/// <para>
/// Nothing is lost: a getter whose task is cancelled after an item was handed to it but before it resumed gives the
/// item back, to the next getter or to the front of the queue (which may then hold one more than its capacity), and
/// ends with <see cref="OperationCanceledException"/>. A put either happens or throws.
/// </para>
/// <para>
/// <see cref="Shutdown"/> follows Python 3.13's <c>Queue.shutdown</c>: puts are refused, getters drain what is left
/// and then get <see cref="QueueShutDownException"/> (an <c>await foreach</c> ends).
/// </para>
/// </remarks>
/// <typeparam name="T">The items' type.</typeparam>
public class LoopQueue<T> : IAsyncEnumerable<T>, IWaiterHost
{
    private readonly int _capacity;
    private readonly string? _name;
    private readonly bool _ownStorage; // a subclass's storage: batches go an item at a time
    private EventLoop? _loop;
    private RingBuffer<T> _ring; // the first-in first-out storage (subclasses keep theirs)
    private WaiterList _getters;  // only while the queue is empty
    private WaiterList _putters;  // only while it is full
    private WaiterList _joiners;
    private SpareWaiters _spares;
    private int _unfinished;
    private bool _shutDown;
    private LoopQueueProducer<T>? _producer;

    /// <summary>Creates a queue.</summary>
    /// <param name="capacity">How many items it holds before puts wait; null for no limit.</param>
    /// <param name="name">A name for introspection (<see cref="WaitReason.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    public LoopQueue(int? capacity = null, string? name = null) : this(capacity, name, ownStorage: false) { }

    /// <summary>For a queue that keeps its items in storage of its own, in another order (it overrides <see cref="Take"/>...).</summary>
    private protected LoopQueue(int? capacity, string? name, bool ownStorage)
    {
        if (capacity is { } c) ArgumentOutOfRangeException.ThrowIfLessThan(c, 1, nameof(capacity));
        _capacity = capacity ?? int.MaxValue;
        _name = name;
        _ownStorage = ownStorage;
    }

    /// <summary>The name given at creation, if any.</summary>
    public string? Name => _name;

    /// <summary>How many items the queue holds before puts wait; null if unbounded.</summary>
    public int? Capacity => _capacity == int.MaxValue ? null : _capacity;

    /// <summary>How many items are in the queue.</summary>
    public int Count => StoredCount;

    /// <summary>Whether the queue holds no item.</summary>
    public bool IsEmpty => StoredCount == 0;

    /// <summary>Whether a put would wait.</summary>
    public bool IsFull => StoredCount >= _capacity;

    /// <summary>Whether <see cref="Shutdown"/> was called.</summary>
    public bool IsShutDown => _shutDown;

    /// <summary>Items put and not yet marked done with <see cref="TaskDone"/>.</summary>
    public int UnfinishedCount => _unfinished;

    /// <summary>
    /// Puts <paramref name="item"/> at the end of the queue, waiting while it is full. The item goes straight to the
    /// getter that waited longest, if any.
    /// </summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task. The item is then not put.</param>
    /// <exception cref="QueueShutDownException">The queue was shut down (before the put, or while it waited).</exception>
    public ValueTask PutAsync(T item, CancellationToken cancellationToken = default)
    {
        var owner = LoopAffinity.Enter(ref _loop);
        if (TryPutCore(item)) return default;
        var putter = Rent(WaitKind.QueuePut);
        putter.Item = item;
        if (putter.Start(cancellationToken, owner)) _putters.Append(putter);
        return putter.AsTask();
    }

    /// <summary>Puts <paramref name="item"/> if there is room, without waiting.</summary>
    /// <param name="item">The item.</param>
    /// <returns>False if the queue is full.</returns>
    /// <exception cref="QueueShutDownException">The queue was shut down.</exception>
    public bool TryPut(T item)
    {
        LoopAffinity.Enter(ref _loop);
        return TryPutCore(item);
    }

    /// <summary>Puts as many of <paramref name="items"/> as there is room for, in order, without waiting.</summary>
    /// <param name="items">The items.</param>
    /// <returns>How many were put, from the start of <paramref name="items"/>.</returns>
    /// <exception cref="QueueShutDownException">The queue was shut down.</exception>
    public int TryPutMany(ReadOnlySpan<T> items)
    {
        LoopAffinity.Enter(ref _loop);
        int put = 0;
        while (put < items.Length && !_getters.IsEmpty && TryPutCore(items[put])) put++; // to waiting getters first
        if (_shutDown) throw ShutDownError("put into");
        int room = Math.Min(items.Length - put, _capacity - StoredCount);
        if (room <= 0) return put;
        StoreMany(items.Slice(put, room));
        _unfinished += room;
        return put + room;
    }

    /// <summary>Takes the next item, waiting while the queue is empty.</summary>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    /// <exception cref="QueueShutDownException">The queue was shut down and is empty.</exception>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default)
    {
        var owner = LoopAffinity.Enter(ref _loop);
        if (StoredCount > 0) return new ValueTask<T>(TakeAndAdmit());
        return WaitToGet(owner, cancellationToken);
    }

    /// <summary>Takes the next item if there is one, without waiting.</summary>
    /// <param name="item">The item taken.</param>
    /// <returns>False if the queue is empty (see <see cref="IsShutDown"/> to tell whether more may come).</returns>
    public bool TryGet([MaybeNullWhen(false)] out T item)
    {
        LoopAffinity.Enter(ref _loop);
        return TryGetCore(out item);
    }

    /// <summary>Takes up to <paramref name="buffer"/>'s length of items, without waiting.</summary>
    /// <param name="buffer">Where the items go, in the order they are taken.</param>
    /// <returns>How many were taken (0 if the queue is empty).</returns>
    public int TryGetMany(Span<T> buffer)
    {
        LoopAffinity.Enter(ref _loop);
        return TryGetManyCore(buffer);
    }

    /// <summary>Waits for at least one item, then takes up to <paramref name="buffer"/>'s length of them (tokio's <c>recv_many</c>).</summary>
    /// <param name="buffer">Where the items go; not empty.</param>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    /// <returns>How many items were taken (at least 1).</returns>
    /// <exception cref="QueueShutDownException">The queue was shut down and is empty.</exception>
    public ValueTask<int> GetManyAsync(Memory<T> buffer, CancellationToken cancellationToken = default)
    {
        var owner = LoopAffinity.Enter(ref _loop);
        if (buffer.IsEmpty) throw new ArgumentException("The buffer must hold at least one item.", nameof(buffer));
        int taken = TryGetManyCore(buffer.Span);
        if (taken > 0) return new ValueTask<int>(taken);
        return GetManyAfterWait(buffer, WaitToGet(owner, cancellationToken));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> GetManyAfterWait(Memory<T> buffer, ValueTask<T> first)
    {
        T item = await first;
        buffer.Span[0] = item;
        return 1 + TryGetManyCore(buffer.Span[1..]);
    }

    /// <summary>Marks one item taken from the queue as processed (asyncio's <c>task_done</c>), for <see cref="JoinAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">Called more times than items were put.</exception>
    public void TaskDone()
    {
        LoopAffinity.Enter(ref _loop);
        if (_unfinished == 0) throw new InvalidOperationException($"TaskDone was called more times than items were put into {Describe()}.");
        if (--_unfinished == 0) ReleaseJoiners();
    }

    /// <summary>Waits until every item put has been marked done with <see cref="TaskDone"/> (asyncio's <c>join</c>).</summary>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    public ValueTask JoinAsync(CancellationToken cancellationToken = default)
    {
        var owner = LoopAffinity.Enter(ref _loop);
        if (_unfinished == 0) return default;
        var joiner = Rent(WaitKind.QueueJoin);
        if (joiner.Start(cancellationToken, owner)) _joiners.Append(joiner);
        return joiner.AsTask();
    }

    /// <summary>
    /// Shuts the queue down (Python 3.13's <c>shutdown()</c>): later puts, and putters waiting now, get
    /// <see cref="QueueShutDownException"/>; getters take what is left, then get the exception (an <c>await foreach</c>
    /// ends). Calling it again does nothing.
    /// </summary>
    public void Shutdown()
    {
        LoopAffinity.Enter(ref _loop);
        if (_shutDown) return;
        _shutDown = true;
        while (_putters.TakeFirst() is { } putter) putter.Fail(ShutDownError("put into"));
        while (_getters.TakeFirst() is { } getter) getter.Fail(ShutDownError("get from"));
    }

    /// <summary>
    /// Shuts the queue down and takes out what it holds (Python's <c>shutdown(immediate=True)</c>): the items are
    /// returned rather than dropped, and count as done for <see cref="JoinAsync"/>.
    /// </summary>
    /// <returns>The items that were in the queue, in the order a getter would have taken them.</returns>
    public IReadOnlyList<T> ShutdownImmediately()
    {
        Shutdown();
        var removed = new List<T>(StoredCount);
        while (StoredCount > 0) removed.Add(Take());
        _unfinished = Math.Max(0, _unfinished - removed.Count);
        if (_unfinished == 0) ReleaseJoiners();
        return removed;
    }

    /// <summary>
    /// The side of this queue that other threads put through, with backpressure: their puts wait while the queue is
    /// full. Made on first use; read it on the loop thread and hand it to the other threads.
    /// </summary>
    public LoopQueueProducer<T> ThreadSafeProducer
    {
        get
        {
            LoopAffinity.Enter(ref _loop);
            return _producer ??= new LoopQueueProducer<T>(this, _loop!);
        }
    }

    /// <summary>Takes the items as they come (<c>await foreach</c>) until the queue is shut down and empty.</summary>
    /// <param name="cancellationToken">Ends a wait for the next item; so does cancelling the calling task.</param>
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        LoopAffinity.Enter(ref _loop);
        return new QueueEnumerator<T>(this, cancellationToken);
    }

    /// <summary>How many items the storage holds.</summary>
    private protected virtual int StoredCount => _ring.Count;

    /// <summary>Adds an item that was put.</summary>
    private protected virtual void Store(T item) => _ring.PushBack(item);

    /// <summary>Removes the next item to get; the storage is not empty.</summary>
    private protected virtual T Take() => _ring.PopFront();

    /// <summary>Adds back an item a cancelled getter gave back, where the next <see cref="Take"/> finds it.</summary>
    private protected virtual void Restore(T item) => _ring.PushFront(item);

    /// <summary>Adds items that were put, in order; there is room for them.</summary>
    private void StoreMany(ReadOnlySpan<T> items)
    {
        if (!_ownStorage)
        {
            _ring.PushBack(items); // one block copy
            return;
        }
        foreach (var item in items) Store(item);
    }

    /// <summary>Removes up to <paramref name="into"/>'s length of items, in the order gets would take them; returns how many.</summary>
    private int TakeMany(Span<T> into)
    {
        if (!_ownStorage) return _ring.PopFront(into);
        int taken = 0;
        while (taken < into.Length && StoredCount > 0) into[taken++] = Take();
        return taken;
    }

    private bool TryPutCore(T item)
    {
        if (_shutDown) throw ShutDownError("put into");
        if (_getters.TakeFirst() is { } getter) Hand((ItemWaiter<T>)getter, item); // the queue is empty: straight to the first getter
        else if (StoredCount < _capacity) Store(item);
        else return false;
        _unfinished++;
        return true;
    }

    internal bool TryGetCore([MaybeNullWhen(false)] out T item)
    {
        if (StoredCount == 0)
        {
            item = default;
            return false;
        }
        item = TakeAndAdmit();
        return true;
    }

    private int TryGetManyCore(Span<T> buffer)
    {
        int taken = 0;
        while (taken < buffer.Length && StoredCount > 0)
        {
            taken += TakeMany(buffer[taken..]);
            AdmitPutters(); // their items come after the ones taken, so the order holds
        }
        return taken;
    }

    /// <summary>Starts a get that waits (the queue is empty), or fails it if the queue is shut down.</summary>
    internal ValueTask<T> WaitToGet(LoopTask? owner, CancellationToken cancellationToken)
    {
        if (_shutDown) return ValueTask.FromException<T>(ShutDownError("get from"));
        var getter = Rent(WaitKind.QueueGet);
        if (getter.Start(cancellationToken, owner)) _getters.Append(getter);
        return getter.AsItemTask();
    }

    private T TakeAndAdmit()
    {
        T item = Take();
        AdmitPutters();
        return item;
    }

    /// <summary>Room now: the putters that waited longest put their items, in order.</summary>
    private void AdmitPutters()
    {
        while (!_putters.IsEmpty && StoredCount < _capacity && _putters.TakeFirst() is ItemWaiter<T> putter)
        {
            Store(putter.Item);
            putter.Item = default!;
            _unfinished++;
            putter.Grant();
        }
    }

    private static void Hand(ItemWaiter<T> getter, T item)
    {
        getter.Item = item;
        getter.Grant();
    }

    private void ReleaseJoiners()
    {
        while (_joiners.TakeFirst() is { } joiner) joiner.Grant();
    }

    private ItemWaiter<T> Rent(WaitKind kind)
    {
        var waiter = (ItemWaiter<T>?)_spares.Take() ?? new ItemWaiter<T>(_loop!, this);
        waiter.Kind = kind;
        return waiter;
    }

    private QueueShutDownException ShutDownError(string operation) =>
        new($"Cannot {operation} {Describe()}: it was shut down{(operation == "get from" ? " and is empty" : "")}.");

    private string Describe() => _name is null ? "the queue" : $"queue '{_name}'";

    WaitReason IWaiterHost.ReasonFor(Waiter waiter) => new(waiter.Kind, 0, _name);

    void IWaiterHost.Unlink(Waiter waiter)
    {
        switch (waiter.Kind)
        {
            case WaitKind.QueueGet: _getters.Unlink(waiter); break;
            case WaitKind.QueuePut: _putters.Unlink(waiter); ((ItemWaiter<T>)waiter).Item = default!; break;
            default: _joiners.Unlink(waiter); break;
        }
    }

    bool IWaiterHost.TryGiveBack(Waiter waiter)
    {
        if (waiter.Kind == WaitKind.QueuePut) return false; // the put happened
        if (waiter.Kind == WaitKind.QueueGet)
        {
            var getter = (ItemWaiter<T>)waiter;
            T item = getter.Item;
            getter.Item = default!;
            if (_getters.TakeFirst() is { } next) Hand((ItemWaiter<T>)next, item);
            else Restore(item);
        }
        return true;
    }

    void IWaiterHost.Recycle(Waiter waiter)
    {
        ((ItemWaiter<T>)waiter).Item = default!;
        _spares.Keep(waiter);
    }
}
