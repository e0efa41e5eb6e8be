using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Meanwhile.Http.WebSockets;

/// <summary>The masking of RFC 6455 5.3: payload XOR a 4-byte key, the key's byte <c>i mod 4</c> on byte <c>i</c>.</summary>
internal static class FrameMask
{
    /// <summary>
    /// Masks (or unmasks: the same XOR) <paramref name="data"/> in place, as the part of a payload that starts at
    /// <paramref name="offset"/> bytes into it; returns the offset after it, for the next part.
    /// </summary>
    /// <param name="data">The bytes.</param>
    /// <param name="key">The key as read little-endian from the frame (its first byte in the low bits).</param>
    /// <param name="offset">Where in the payload <paramref name="data"/> starts, modulo 4.</param>
    public static int Apply(Span<byte> data, int key, int offset)
    {
        if (data.IsEmpty) return offset;
        // Rotate the key so its byte for data[0] comes first, then XOR whole words.
        uint rotated = BitOperations.RotateRight((uint)key, (offset & 3) * 8);
        int i = 0;
        if (Vector.IsHardwareAccelerated && data.Length >= Vector<byte>.Count)
        {
            var keyVector = Vector.AsVectorByte(new Vector<uint>(rotated));
            var vectors = MemoryMarshal.Cast<byte, Vector<byte>>(data);
            for (int v = 0; v < vectors.Length; v++) vectors[v] ^= keyVector;
            i = vectors.Length * Vector<byte>.Count;
        }
        ulong wide = rotated | ((ulong)rotated << 32);
        for (; i + 8 <= data.Length; i += 8)
        {
            var word = data.Slice(i, 8);
            BinaryPrimitives.WriteUInt64LittleEndian(word, BinaryPrimitives.ReadUInt64LittleEndian(word) ^ wide);
        }
        for (; i < data.Length; i++) data[i] ^= (byte)(rotated >> ((i & 3) * 8));
        return (offset + data.Length) & 3;
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> masked; returns the next offset.</summary>
    public static int CopyMasked(ReadOnlySpan<byte> source, Span<byte> destination, int key, int offset)
    {
        source.CopyTo(destination);
        return Apply(destination[..source.Length], key, offset);
    }
}
