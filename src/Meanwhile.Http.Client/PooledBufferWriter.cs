using System.Buffers;

namespace Meanwhile.Http.Client;

/// <summary>An <see cref="IBufferWriter{T}"/> over an array rented from the shared pool, for serializing request heads without allocating.</summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>
{
    private byte[] array = [];
    private int written;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => array.AsMemory(0, written);

    /// <summary>How many bytes were written.</summary>
    public int WrittenCount => written;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, array.Length - written);
        written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return array.AsMemory(written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return array.AsSpan(written);
    }

    /// <summary>Appends bytes.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        written += bytes.Length;
    }

    /// <summary>Forgets what was written and returns the array to the pool.</summary>
    public void Release()
    {
        written = 0;
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
            array = [];
        }
    }

    private void Ensure(int sizeHint)
    {
        int needed = written + Math.Max(sizeHint, 1);
        if (needed <= array.Length)
        {
            return;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(1024, array.Length * 2)));
        array.AsSpan(0, written).CopyTo(larger);
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }

        array = larger;
    }
}
