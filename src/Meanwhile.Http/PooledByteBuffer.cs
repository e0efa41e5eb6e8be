using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Meanwhile.Http;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/>, where the head writers
/// (<see cref="HttpHeadWriter"/>, <see cref="HttpChunkedWriter"/>) gather what one write sends: the server's responses
/// and buffered bodies, the client's request heads. <see cref="Clear"/> keeps the array for the next batch;
/// <see cref="Release"/> gives it back, so an idle connection holds none.
/// </summary>
/// <remarks>
/// Unlike <see cref="ArrayBufferWriter{T}"/>, its memory comes from and goes back to the shared pool. Arrays above
/// 1 MiB are left to the GC rather than pooled. Not thread-safe.
/// </remarks>
public sealed class PooledByteBuffer : IBufferWriter<byte>
{
    // Arrays above this size are neither rented nor returned: the shared pool would keep them for the life of the
    // process (large buffered responses under load would leave gigabytes pooled), while the GC gives them back once unused.
    private const int MaxPooledBytes = 1024 * 1024;

    private readonly int _initialSize;
    private byte[]? _buffer;
    private int _length;

    /// <summary>Creates an empty buffer; nothing is rented until the first write.</summary>
    /// <param name="initialSize">The size of the first array rented.</param>
    public PooledByteBuffer(int initialSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialSize);
        _initialSize = initialSize;
    }

    /// <summary>Bytes written and not yet cleared.</summary>
    public int Length => _length;

    /// <summary>The bytes written, valid until the next write, clear or release.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer is null ? default : _buffer.AsMemory(0, _length);

    /// <summary>The bytes written, valid until the next write, clear or release.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer is null ? default : _buffer.AsSpan(0, _length);

    /// <summary>Appends <paramref name="data"/>.</summary>
    /// <param name="data">The bytes.</param>
    public void Write(ReadOnlySpan<byte> data)
    {
        if (_buffer is null || _buffer.Length - _length < data.Length) Ensure(data.Length);
        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    // ": " read as a little-endian ushort (a constant: a static field would cost a class-constructor check per use).
    private const ushort NameSeparator = ':' | (' ' << 8);

    /// <summary>Appends <c>name: value CRLF</c> (both already checked).</summary>
    internal void WriteFieldLine(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        int length = name.Length + value.Length + 4;
        if (_buffer is null || _buffer.Length - _length < length) Ensure(length);
        Span<byte> span = _buffer.AsSpan(_length, length);
        ref byte nameStart = ref MemoryMarshal.GetReference(name);
        int at = name.Length;
        if (BitConverter.IsLittleEndian && Unsafe.AreSame(ref Unsafe.Add(ref nameStart, at + 2), ref MemoryMarshal.GetReference(value))
            && Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref nameStart, at)) == NameSeparator)
        {
            // A line as a parser stored it, "name: value": one copy rather than two.
            MemoryMarshal.CreateReadOnlySpan(ref nameStart, at + 2 + value.Length).CopyTo(span);
        }
        else
        {
            name.CopyTo(span);
            span[at] = (byte)':';
            span[at + 1] = (byte)' ';
            value.CopyTo(span[(at + 2)..]);
        }
        span[^2] = (byte)'\r';
        span[^1] = (byte)'\n';
        _length += length;
    }

    /// <inheritdoc />
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_buffer is null || _length + count > _buffer.Length) throw new InvalidOperationException("Advanced past the span that was handed out.");
        _length += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        // The room is usually there: checked here, so only growing calls Ensure.
        if (_buffer is null || _buffer.Length - _length < Math.Max(sizeHint, 1)) Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    /// <summary>Forgets the content and keeps the array for the next batch.</summary>
    public void Clear() => _length = 0;

    /// <summary>
    /// Forgets the content and keeps the array for the next batch if it holds at most <paramref name="keptBytes"/>;
    /// a larger one (grown for a large batch) goes back to the pool.
    /// </summary>
    /// <param name="keptBytes">The largest array kept.</param>
    public void Trim(int keptBytes)
    {
        _length = 0;
        if (_buffer is { } old && old.Length > keptBytes)
        {
            _buffer = null;
            Return(old);
        }
    }

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
