using System.Buffers;
using System.Runtime.InteropServices;

namespace Meanwhile.Http.Tests;

public sealed class PooledByteBufferTests
{
    [Fact]
    public void Small_arrays_go_back_to_the_pool_large_ones_to_the_GC()
    {
        // The same thread renting the same size right after a return gets the array back from the pool's
        // thread-local slot: that is how to see whether an array was pooled.
        Assert.Same(Released(64 * 1024), ArrayPool<byte>.Shared.Rent(64 * 1024));

        byte[] large = Released(4 * 1024 * 1024);
        Assert.NotSame(large, ArrayPool<byte>.Shared.Rent(large.Length));
    }

    [Fact]
    public void Content_survives_growing_past_the_pooled_size()
    {
        var buffer = new PooledByteBuffer(16);
        var data = new byte[3 * 1024 * 1024 + 5];
        new Random(7).NextBytes(data);
        for (int at = 0; at < data.Length; at += 4096) buffer.Write(data.AsSpan(at, Math.Min(4096, data.Length - at)));
        Assert.Equal(data, buffer.WrittenSpan.ToArray());
        buffer.Release();
        Assert.Equal(0, buffer.Length);
    }

    private static byte[] Released(int size)
    {
        var buffer = new PooledByteBuffer(size);
        buffer.Write(new byte[size]);
        Assert.True(MemoryMarshal.TryGetArray(buffer.WrittenMemory, out ArraySegment<byte> segment));
        buffer.Release();
        return segment.Array!;
    }
}
