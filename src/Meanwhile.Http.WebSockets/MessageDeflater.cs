using System.IO.Compression;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// The sending side of permessage-deflate (RFC 7692 7.2.1): each piece of a message goes through zlib's raw DEFLATE and
/// a sync flush, so every frame carries whole deflate blocks; the last piece loses the flush's <c>00 00 ff ff</c> tail,
/// which the receiver puts back. The compressor lives from a message's first piece to its last, and on to the next
/// message only with context takeover.
/// </summary>
internal sealed class MessageDeflater(DeflateSettings settings) : IDisposable
{
    private readonly BufferStream _output = new();
    private DeflateStream? _deflate;

    /// <summary>Compresses one piece of a message; the bytes stay valid until <see cref="ReleaseOutput"/>.</summary>
    public ReadOnlyMemory<byte> Compress(ReadOnlySpan<byte> piece, bool endOfMessage)
    {
        _deflate ??= new DeflateStream(_output, settings.Options.Level, leaveOpen: true);
        _deflate.Write(piece);
        _deflate.Flush(); // Z_SYNC_FLUSH: ends on a byte boundary with an empty stored block, 00 00 ff ff
        var written = _output.Buffer.WrittenMemory;
        if (endOfMessage)
        {
            if (written.Span.EndsWith(MessageInflater.Tail)) written = written[..^MessageInflater.Tail.Length];
            if (settings.ResetSendContext) DropCompressor();
        }
        return written;
    }

    /// <summary>Gives back the buffer of the last piece's compressed bytes, once they are written.</summary>
    public void ReleaseOutput() => _output.Buffer.Release();

    /// <summary>Frees the compressor (the connection ended); the output buffer goes back once its write ends.</summary>
    public void Dispose() => DropCompressor();

    private void DropCompressor()
    {
        if (_deflate is null) return;
        // Disposing finishes the deflate stream (a final block nobody needs): it must not land in bytes still to be sent.
        _output.Discard = true;
        _deflate.Dispose();
        _output.Discard = false;
        _deflate = null;
    }

    /// <summary>A write-only stream into a pooled buffer: where zlib's output lands.</summary>
    private sealed class BufferStream : Stream
    {
        public Meanwhile.Http.PooledByteBuffer Buffer { get; } = new(256);

        public bool Discard { get; set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (!Discard) Buffer.Write(buffer);
        }
    }
}
