namespace Meanwhile;

/// <summary>
/// The stream SslStream reads and writes under a <see cref="TlsStream"/>: the socket's adapter, noting the first byte
/// the peer sent, so a failed handshake can tell "not TLS at all" (plain HTTP on a TLS port) from a TLS failure.
/// </summary>
internal sealed class TlsHandshakeProbe(Stream socket) : Stream
{
    private int _firstByte = -1;

    /// <summary>The first byte received, or null before any.</summary>
    public byte? FirstByte => _firstByte < 0 ? null : (byte)_firstByte;

    public override bool CanRead => socket.CanRead;
    public override bool CanWrite => socket.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_firstByte >= 0 || buffer.IsEmpty) return socket.ReadAsync(buffer, cancellationToken);
        return FirstReadAsync(buffer, cancellationToken);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> FirstReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int n = await socket.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (n > 0) _firstByte = buffer.Span[0];
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        socket.WriteAsync(buffer, offset, count, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => socket.FlushAsync(cancellationToken);

    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) => socket.Read(buffer, offset, count);
    public override void Write(byte[] buffer, int offset, int count) => socket.Write(buffer, offset, count);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
