using System.Buffers;

namespace Meanwhile.Http;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/>, for the server's output and a response's
/// buffered body, and the client's request heads: one pooled writer for both sides. <see cref="Release"/> gives the
/// array back, so an idle connection holds none.
/// </summary>
internal sealed class PooledByteBuffer : IBufferWriter<byte>
{
    // Arrays above this size are neither rented nor returned: the shared pool would keep them for the life of the
    // process (large buffered responses under load would leave gigabytes pooled), while the GC gives them back once unused.
    private const int MaxPooledBytes = 1024 * 1024;

    private readonly int _initialSize;
    private byte[]? _buffer;
    private int _length;

    public PooledByteBuffer(int initialSize) => _initialSize = initialSize;

    /// <summary>Bytes written and not yet cleared.</summary>
    public int Length => _length;

    public ReadOnlyMemory<byte> WrittenMemory => _buffer is null ? default : _buffer.AsMemory(0, _length);

    public ReadOnlySpan<byte> WrittenSpan => _buffer is null ? default : _buffer.AsSpan(0, _length);

    public void Write(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        _length += data.Length;
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_buffer is null || _length + count > _buffer.Length) throw new InvalidOperationException("Advanced past the span that was handed out.");
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    /// <summary>Forgets the content and keeps the array for the next batch.</summary>
    public void Clear() => _length = 0;

    /// <summary>Forgets the content and returns the array to the pool.</summary>
    public void Release()
    {
        _length = 0;
        if (_buffer is { } old)
        {
            _buffer = null;
            Return(old);
        }
    }

    private void Ensure(int sizeHint)
    {
        int needed = _length + Math.Max(sizeHint, 1);
        if (_buffer is not null && needed <= _buffer.Length) return;
        int size = Math.Max(needed, Math.Max(_initialSize, (_buffer?.Length ?? 0) * 2));
        var larger = size <= MaxPooledBytes ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);
        if (_buffer is { } old)
        {
            old.AsSpan(0, _length).CopyTo(larger);
            Return(old);
        }
        _buffer = larger;
    }

    private static void Return(byte[] array)
    {
        if (array.Length <= MaxPooledBytes) ArrayPool<byte>.Shared.Return(array);
    }
}
