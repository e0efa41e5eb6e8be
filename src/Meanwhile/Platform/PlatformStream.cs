namespace Meanwhile;

/// <summary>
/// What a <see cref="DataStream"/> needs from the reactor side: the OS-specific half of a stream (a non-blocking
/// descriptor on epoll, a .NET <c>Socket</c> on the portable reactor, a file on worker threads).
/// One reader and one writer may be in progress at a time; <see cref="DataStream"/> enforces that.
/// </summary>
/// <remarks>
/// Contract: the tasks returned complete on the loop thread. Prefer completing them through the loop (a loop wait, or the
/// pooling async builder) rather than with a <see cref="Task"/>: awaited without the loop's context, a Task completed on
/// the loop resumes on the thread pool, because the runtime will not inline under a custom SynchronizationContext.
/// </remarks>
internal abstract class PlatformStream
{
    /// <summary>Reads at least one byte, or returns 0 at end of stream. An empty buffer waits until data may be available.</summary>
    public abstract ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// A zero-byte read (<see cref="ReadAsync"/> into an empty buffer) that completes with true, or with false when it is
    /// cancelled, rather than with an <see cref="OperationCanceledException"/> (see <see cref="DataStream.WaitForDataAsync"/>).
    /// Streams whose zero-byte read is a loop wait override it to make and throw no exception at all.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public virtual async ValueTask<bool> WaitForDataAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ReadAsync(Memory<byte>.Empty, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Completes once every byte has been handed to the kernel (or the file).</summary>
    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Completes once buffered data is on its way; most transports buffer nothing.</summary>
    public virtual ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Signals end of stream to the peer while reading stays possible (TCP FIN, closing a pipe's write end).</summary>
    public abstract void ShutdownWrite();

    /// <summary>Releases the OS resource; pending operations end with <see cref="ObjectDisposedException"/>.</summary>
    public abstract ValueTask CloseAsync();

    /// <summary>
    /// Whether the transport itself refuses a second read or write while one is pending; otherwise
    /// <see cref="DataStream"/> tracks it (at the cost of a wrapper around pending operations).
    /// </summary>
    public virtual bool GuardsConcurrentOperations => false;

    /// <summary>
    /// Whether a write abandoned by cancellation may still complete: a blocking write on a worker thread cannot be
    /// called back, so its bytes may arrive after the caller saw it cancelled. Writers that count what they lost use it.
    /// </summary>
    public virtual bool WritesOutliveCancellation => false;

    /// <summary>What the stream is ("tcp 127.0.0.1:5000", "fd 7"), for error messages.</summary>
    public abstract string Description { get; }
}
