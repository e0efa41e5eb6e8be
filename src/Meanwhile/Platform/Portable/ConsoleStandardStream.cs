
namespace Meanwhile;

/// <summary>
/// A standard stream on the portable reactor: .NET's console stream (Console.OpenStandardInput and friends, which
/// work on every platform and whatever the stream is), with each blocking read or write on a worker thread.
/// </summary>
internal sealed class ConsoleStandardStream(EventLoop loop, Stream stream, string description) : PlatformStream
{
    private int _closed;

    public override string Description => description;

    /// <remarks>Each write is a blocking call on a worker.</remarks>
    public override bool WritesOutliveCancellation => true;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _closed) != 0) return ValueTask.FromException<int>(new ObjectDisposedException(Description));
        if (buffer.IsEmpty) return new ValueTask<int>(0); // cannot know without blocking: "maybe"
        return new ValueTask<int>(loop.RunOnWorker(() => stream.Read(buffer.Span), cancellationToken));
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _closed) != 0) return ValueTask.FromException(new ObjectDisposedException(Description));
        if (data.IsEmpty) return ValueTask.CompletedTask;
        return new ValueTask(loop.RunOnWorker(() => { stream.Write(data.Span); stream.Flush(); }, cancellationToken));
    }

    public override void ShutdownWrite() { } // the process's own stdout stays open until it exits

    public override ValueTask CloseAsync()
    {
        // The console stream owns a duplicate of the descriptor (or nothing, on Windows): disposing it leaves fd 0/1/2 open.
        if (Interlocked.Exchange(ref _closed, 1) == 0) stream.Dispose();
        return ValueTask.CompletedTask;
    }
}
