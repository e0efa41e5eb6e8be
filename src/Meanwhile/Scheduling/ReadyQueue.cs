using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>Something the loop runs from its ready queue without allocating a delegate for it.</summary>
internal interface ILoopWorkItem
{
    void Execute();
}

/// <summary>
/// One entry of the ready queue: a callback, its state, its kind, and the task it belongs to (null for loop
/// callbacks). The loop runs it under that task's <see cref="LoopSynchronizationContext"/>, which is how the
/// loop knows which task is running.
/// </summary>
internal struct ReadyItem
{
    // Task and Wait are work items whose type the constructor knew: the loop monitor, which names what each item runs,
    // then needs no type test per item.
    // AsyncMethod: the runtime's continuation of an async method with its box as the state. The delegate is always the
    // same (LoopWait.AsyncMethodContinuation), so Target stays null: a reference less to store, and so a GC write barrier
    // less, on every switch between tasks.
    // Permit: a granted PermitWaiter, which holds the continuation, its state and its task: one reference to store (and
    // so one GC write barrier) where an AsyncMethod item stores two, on every lock hand-off. Owner stays null; the task
    // is the waiter's (see PermitOwner).
    public enum ItemKind : byte { Action, ActionWithState, PostCallback, WorkItem, Task, Wait, AsyncMethod, Permit }

    // Not readonly only so that the ready queue can store an item field by field (see ReadyQueue.Enqueue); nothing else
    // writes them after construction. Target is null only for an AsyncMethod item.
    public object Target;
    public object? State;
    public LoopTask? Owner;
    public ItemKind Kind;

    private ReadyItem(object target, object? state, LoopTask? owner, ItemKind kind)
    {
        Target = target;
        State = state;
        Owner = owner;
        Kind = kind;
    }

    public ReadyItem(Action action, LoopTask? owner = null) : this(action, null, owner, ItemKind.Action) { }

    public ReadyItem(Action<object?> action, object? state, LoopTask? owner = null) : this(action, state, owner, ItemKind.ActionWithState) { }

    public ReadyItem(ILoopWorkItem item, LoopTask? owner = null) : this(item, null, owner, ItemKind.WorkItem) { }

    /// <summary>A task's first run: the task is its own owner for the monitor.</summary>
    public ReadyItem(LoopTask task) : this(task, null, null, ItemKind.Task) { }

    public ReadyItem(LoopWait wait, LoopTask? owner = null) : this(wait, null, owner, ItemKind.Wait) { }

    /// <summary>Resumes the task of a granted <paramref name="waiter"/> (its continuation and task stay in the waiter).</summary>
    public ReadyItem(PermitWaiter waiter) : this(waiter, null, null, ItemKind.Permit) { }

    /// <summary>The task a Permit item resumes (its <see cref="Owner"/> is null); null for any other kind.</summary>
    public readonly LoopTask? PermitOwner => Kind == ItemKind.Permit ? Unsafe.As<PermitWaiter>(Target).Owner : null;

    /// <summary>The task whose context the item runs in: its owner, or a permit waiter's task.</summary>
    public readonly LoopTask? ResumedTask => Owner ?? PermitOwner;

    /// <summary>The task the item runs for: its owner, a permit waiter's task, or the task itself for a task's first run.</summary>
    public readonly LoopTask? Task => ResumedTask ?? (Kind == ItemKind.Task ? Unsafe.As<LoopTask>(Target) : null);

    /// <summary>Resumes the async method whose box is <paramref name="box"/> (what the runtime's own continuation does).</summary>
    public static ReadyItem ForAsyncMethod(object? box, LoopTask? owner) => new(null!, box, owner, ItemKind.AsyncMethod);

    public static ReadyItem FromPost(SendOrPostCallback callback, object? state, LoopTask? owner) => new(callback, state, owner, ItemKind.PostCallback);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Invoke()
    {
        // The constructors fix Target's type for each kind, so the casts below cannot fail.
        switch (Kind)
        {
            case ItemKind.Action: Unsafe.As<Action>(Target)(); break;
            case ItemKind.ActionWithState: Unsafe.As<Action<object?>>(Target)(State); break;
            case ItemKind.AsyncMethod: LoopWait.AsyncMethodContinuation!(State); break;
            case ItemKind.Permit: Unsafe.As<PermitWaiter>(Target).RunContinuation(); break;
            case ItemKind.PostCallback: Unsafe.As<SendOrPostCallback>(Target)(State); break;
            case ItemKind.Task: Unsafe.As<LoopTask>(Target).Start(); break; // a direct call, not an interface dispatch
            default: Unsafe.As<ILoopWorkItem>(Target).Execute(); break;
        }
    }
}

/// <summary>
/// The loop's FIFO of runnable work: a growable ring buffer touched only by the loop thread
/// (other threads go through the loop's posted queue).
/// </summary>
internal sealed class ReadyQueue
{
    private ReadyItem[] _items = new ReadyItem[256];
    private int _head;
    private int _count;

    /// <summary>Told of each item queued for a task, while the loop's diagnostics are on (null otherwise).</summary>
    internal LoopMonitor? Monitor;

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enqueue(in ReadyItem item)
    {
        Monitor?.OnQueued(item.ResumedTask);
        if (_count == _items.Length) Grow();
        // Field by field rather than as one struct copy: a copy into the array goes through the runtime's by-reference
        // write-barrier helper for each of its three references (about 20 instructions each, every task switch), while a
        // field store takes the plain barrier, and none at all for a constant null once this is inlined.
        ref ReadyItem slot = ref _items[(_head + _count) & (_items.Length - 1)];
        slot.Target = item.Target;
        slot.State = item.State;
        slot.Owner = item.Owner;
        slot.Kind = item.Kind;
        _count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadyItem Dequeue()
    {
        ref ReadyItem slot = ref _items[_head];
        ReadyItem item = slot;
        slot = default; // let the GC have what ran
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        return item;
    }

    public void Clear()
    {
        while (_count > 0) Dequeue();
    }

    /// <summary>Drops the items of the tasks <paramref name="dropped"/> picks, keeping the others in order.</summary>
    public void RemoveOwnedBy(Func<LoopTask, bool> dropped)
    {
        for (int n = _count; n > 0; n--)
        {
            var item = Dequeue();
            if (item.ResumedTask is not { } owner || !dropped(owner)) Enqueue(item);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow()
    {
        var bigger = new ReadyItem[_items.Length * 2];
        for (int i = 0; i < _count; i++)
            bigger[i] = _items[(_head + i) & (_items.Length - 1)];
        _items = bigger;
        _head = 0;
    }
}
