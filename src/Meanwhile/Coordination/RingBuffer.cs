using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A growable ring of items that a queue takes from either end: the front for first-in first-out, the back for
/// last-in first-out. A mutable struct: keep it in a field and never copy it.
/// </summary>
internal struct RingBuffer<T>
{
    private T[]? _items;
    private int _head;
    private int _count;

    public readonly int Count => _count;

    public void PushBack(T item)
    {
        if (_items is null || _count == _items.Length) Grow();
        _items![(_head + _count) & (_items.Length - 1)] = item;
        _count++;
    }

    public void PushFront(T item)
    {
        if (_items is null || _count == _items.Length) Grow();
        _head = (_head - 1) & (_items!.Length - 1);
        _items[_head] = item;
        _count++;
    }

    public T PopFront()
    {
        ref T slot = ref _items![_head];
        T item = slot;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>()) slot = default!; // let the GC have it
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        return item;
    }

    public T PopBack()
    {
        _count--;
        ref T slot = ref _items![(_head + _count) & (_items.Length - 1)];
        T item = slot;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>()) slot = default!;
        return item;
    }

    /// <summary>Adds <paramref name="items"/> at the back, in order.</summary>
    public void PushBack(ReadOnlySpan<T> items)
    {
        while (_items is null || _count + items.Length > _items.Length) Grow();
        int tail = (_head + _count) & (_items.Length - 1);
        int first = Math.Min(items.Length, _items.Length - tail);
        items[..first].CopyTo(_items.AsSpan(tail));
        items[first..].CopyTo(_items);
        _count += items.Length;
    }

    /// <summary>Moves up to <paramref name="into"/>'s length of items from the front into it; returns how many.</summary>
    public int PopFront(Span<T> into)
    {
        int n = Math.Min(into.Length, _count);
        if (n == 0) return 0;
        int first = Math.Min(n, _items!.Length - _head);
        var front = _items.AsSpan(_head, first);
        var wrapped = _items.AsSpan(0, n - first);
        front.CopyTo(into);
        wrapped.CopyTo(into[first..]);
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            front.Clear();
            wrapped.Clear();
        }
        _head = (_head + n) & (_items.Length - 1);
        _count -= n;
        return n;
    }

    [MemberNotNull(nameof(_items))]
    private void Grow()
    {
        var bigger = new T[_items is null ? 8 : _items.Length * 2];
        for (int i = 0; i < _count; i++) bigger[i] = _items![(_head + i) & (_items.Length - 1)];
        _items = bigger;
        _head = 0;
    }
}
