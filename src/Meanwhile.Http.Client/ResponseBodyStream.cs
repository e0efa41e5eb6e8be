namespace Meanwhile.Http.Client;

/// <summary>
/// The body of a <see cref="LoopHttpResponse"/> as the connection delivers it (de-chunked, not decoded): a read-only
/// stream that pulls from the connection when the caller reads, so a slow reader slows the server down (TCP backpressure).
/// </summary>
/// <remarks>A body cut short throws <see cref="LoopHttpException"/> (<see cref="LoopHttpErrorKind.IncompleteResponse"/>); it never just ends early.</remarks>
internal sealed class ResponseBodyStream(LoopHttpResponse response) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException("The body's length is in LoopHttpResponse.ContentLength.");

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        response.ReadRawBodyAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("A synchronous read would block the event loop; use ReadAsync.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
