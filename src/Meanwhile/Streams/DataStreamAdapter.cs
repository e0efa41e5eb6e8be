namespace Meanwhile.Streams;

/// <summary>
/// <see cref="Stream"/> over a <see cref="DataStream"/>, for SslStream, StreamReader, CopyToAsync and Pipelines.
/// Only the asynchronous members work: a blocking read would stall the loop, so the synchronous ones throw.
/// </summary>
internal sealed class DataStreamAdapter(DataStream stream) : Stream
{
    public override bool CanRead => !stream.IsClosed;
    public override bool CanWrite => !stream.IsClosed;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException("A data stream has no length.");
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        stream.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        stream.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        stream.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        stream.WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => stream.FlushAsync(cancellationToken).AsTask();

    public override void Flush() { } // nothing is buffered here; FlushAsync reaches the transport

    public override int Read(byte[] buffer, int offset, int count) => throw Blocking();
    public override void Write(byte[] buffer, int offset, int count) => throw Blocking();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A data stream cannot seek.");
    public override void SetLength(long value) => throw new NotSupportedException("A data stream has no length.");

    public override ValueTask DisposeAsync() => stream.DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing) stream.Dispose();
        base.Dispose(disposing);
    }

    private static NotSupportedException Blocking() =>
        new("Synchronous reads and writes would block the event loop; use ReadAsync and WriteAsync.");
}
