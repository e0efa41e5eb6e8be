namespace Meanwhile;

/// <summary>
/// A <see cref="LoopQueue{T}"/> that gives out the item put last first (asyncio's <c>LifoQueue</c>): a stack with
/// waiting getters and putters, and everything else the queue does.
/// </summary>
/// <typeparam name="T">The items' type.</typeparam>
public sealed class LoopLifoQueue<T> : LoopQueue<T>
{
    private RingBuffer<T> _stack;

    /// <summary>Creates a last-in first-out queue.</summary>
    /// <param name="capacity">How many items it holds before puts wait; null for no limit.</param>
    /// <param name="name">A name for introspection.</param>
    public LoopLifoQueue(int? capacity = null, string? name = null) : base(capacity, name, ownStorage: true) { }

    private protected override int StoredCount => _stack.Count;

    private protected override void Store(T item) => _stack.PushBack(item);

    private protected override T Take() => _stack.PopBack();

    private protected override void Restore(T item) => _stack.PushBack(item);
}
