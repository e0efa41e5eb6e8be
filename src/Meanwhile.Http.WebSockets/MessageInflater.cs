using System.IO.Compression;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// The receiving side of permessage-deflate (RFC 7692 7.2.2): a compressed message's payload, unmasked as it is taken,
/// then the <c>00 00 ff ff</c> tail the sender removed, go through zlib's raw inflate into the caller's buffer, never
/// more than that buffer at a time (so the size limit applies as the message inflates). The decompressor lives from a
/// compressed message's first byte to its end, and on to the next message only with context takeover.
/// </summary>
internal sealed class MessageInflater(DeflateSettings settings) : IDisposable
{
    private static readonly byte[] TailBytes = [0x00, 0x00, 0xFF, 0xFF];
    private readonly InflateInput _input = new();
    private DeflateStream? _inflate;

    /// <summary>The bytes a sync flush ends with, which the sender removes from a message's end.</summary>
    public static ReadOnlySpan<byte> Tail => TailBytes;

    /// <summary>
    /// Inflates into <paramref name="destination"/> what it can from <paramref name="count"/> payload bytes of
    /// <paramref name="source"/> (masked with <paramref name="maskKey"/> from <paramref name="maskOffset"/>, when masked);
    /// returns the bytes produced. zlib takes what it needs: <paramref name="consumed"/> says how much.
    /// </summary>
    /// <exception cref="InvalidDataException">The payload is not valid DEFLATE data.</exception>
    public int Inflate(byte[] source, int start, int count, int? maskKey, ref int maskOffset, Span<byte> destination, out int consumed)
    {
        _inflate ??= new DeflateStream(_input, CompressionMode.Decompress, leaveOpen: true);
        _input.Set(source, start, count, maskKey, maskOffset);
        int produced = _inflate.Read(destination);
        consumed = _input.Consumed;
        maskOffset = _input.MaskOffset;
        _input.Set(null, 0, 0, null, 0);
        return produced;
    }

    /// <summary>Inflates the tail, from <paramref name="tailAt"/> bytes into it, after the message's last payload byte.</summary>
    public int InflateTail(int tailAt, Span<byte> destination, out int consumed)
    {
        int noMask = 0;
        return Inflate(TailBytes, tailAt, TailBytes.Length - tailAt, null, ref noMask, destination, out consumed);
    }

    /// <summary>A message ended: the decompressor is dropped without context takeover, or when its stream was finished.</summary>
    public void EndMessage(bool streamFinished)
    {
        if (settings.ResetReceiveContext || streamFinished) Dispose();
    }

    /// <summary>Frees the decompressor (it is made again for the next compressed message).</summary>
    public void Dispose()
    {
        _inflate?.Dispose();
        _inflate = null;
    }

    /// <summary>The payload bytes zlib may take, handed over (and unmasked) as it reads them.</summary>
    private sealed class InflateInput : Stream
    {
        private byte[]? _source;
        private int _start;
        private int _count;
        private int? _maskKey;

        public int Consumed { get; private set; }

        public int MaskOffset { get; private set; }

        public void Set(byte[]? source, int start, int count, int? maskKey, int maskOffset)
        {
            _source = source;
            _start = start;
            _count = count;
            _maskKey = maskKey;
            MaskOffset = maskOffset;
            Consumed = 0;
        }

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, _count - Consumed);
            if (n <= 0) return 0;
            _source.AsSpan(_start + Consumed, n).CopyTo(buffer);
            if (_maskKey is int key) MaskOffset = FrameMask.Apply(buffer[..n], key, MaskOffset);
            Consumed += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
