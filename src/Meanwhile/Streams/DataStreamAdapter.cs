namespace Meanwhile;

/// <summary>
/// <see cref="Stream"/> over a <see cref="DataStream"/>, for SslStream, StreamReader, CopyToAsync and Pipelines.
/// Only the asynchronous members work: a blocking read would stall the loop, so the synchronous ones throw.
/// </summary>
/// <remarks>
/// Library code on top of a Stream often resumes its own awaits without a context (SslStream does), which puts it on
/// the thread pool; its next call would then reach the data stream from a foreign thread. So calls made off the loop
/// are carried to the loop and their results carried back; calls on the loop thread go straight through.
/// </remarks>
internal sealed class DataStreamAdapter(DataStream stream) : Stream
{
    public override bool CanRead => !stream.IsClosed;
    public override bool CanWrite => !stream.IsClosed;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException("A data stream has no length.");
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        stream.Loop.IsLoopThread
            ? stream.ReadAsync(buffer, cancellationToken)
            : new ValueTask<int>(OnLoop(static (s, b, t) => s.ReadAsync(b, t), buffer, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        stream.Loop.IsLoopThread
            ? stream.WriteAsync(buffer, cancellationToken)
            : new ValueTask(OnLoop(static async (s, b, t) => { await s.WriteAsync(b, t); return 0; }, MemoryOf(buffer), cancellationToken));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        stream.Loop.IsLoopThread ? stream.FlushAsync(cancellationToken).AsTask() : OnLoop(static async (s, _, t) => { await s.FlushAsync(t); return 0; }, default, cancellationToken);

    public override void Flush() { } // nothing is buffered here; FlushAsync reaches the platform

    public override int Read(byte[] buffer, int offset, int count) => throw Blocking();
    public override void Write(byte[] buffer, int offset, int count) => throw Blocking();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A data stream cannot seek.");
    public override void SetLength(long value) => throw new NotSupportedException("A data stream has no length.");

    public override ValueTask DisposeAsync() =>
        stream.Loop.IsLoopThread ? stream.DisposeAsync() : new ValueTask(OnLoop(static async (s, _, _) => { await s.DisposeAsync(); return 0; }, default, default));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (stream.Loop.IsLoopThread) stream.Dispose();
            else stream.Loop.Post(static s => ((DataStream)s!).Dispose(), stream);
        }
        base.Dispose(disposing);
    }

    /// <summary>Runs a stream operation on the loop for a caller on another thread.</summary>
    private Task<T> OnLoop<T>(Func<DataStream, Memory<byte>, CancellationToken, ValueTask<T>> operation, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        stream.Loop.Post(async () =>
        {
            try { done.TrySetResult(await operation(stream, buffer, cancellationToken)); }
            catch (OperationCanceledException e) { done.TrySetCanceled(e.CancellationToken); }
            catch (Exception e) { done.TrySetException(e); }
        });
        return done.Task;
    }

    // The write path reuses the read path's plumbing; the buffer is only read from.
    private static Memory<byte> MemoryOf(ReadOnlyMemory<byte> buffer) => System.Runtime.InteropServices.MemoryMarshal.AsMemory(buffer);

    private static NotSupportedException Blocking() =>
        new("Synchronous reads and writes would block the event loop; use ReadAsync and WriteAsync.");
}
