using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A data stream on the loop — the seed's "flux de données": a network connection, a pipe, a FIFO, a device, a
/// standard stream, a file, a child process's stdin or stdout. Open it, read, write, close it; while a read or a
/// write waits, the task costs nothing and the loop runs the others.
/// </summary>
/// <remarks>
/// <para>Reads return 0 at end of stream. Writes complete once every byte has been handed to the kernel (partial
/// writes are the library's business), so a writer that outruns its peer waits, and memory stays bounded by the
/// caller's own buffers. One read and one write may be in progress at the same time.</para>
/// <para>A read into an empty buffer waits until data may be available and returns 0 without consuming anything:
/// a server can wait with no buffer and rent one only when there is something to read (Kestrel's zero-byte reads).</para>
/// <para>Use it from the loop thread. <see cref="AsStream"/> and <see cref="AsPipe"/> adapt it to
/// <see cref="Stream"/> (SslStream, StreamReader, CopyToAsync) and to System.IO.Pipelines.</para>
/// </remarks>
public partial class DataStream : IAsyncDisposable, IDisposable
{
    private readonly PlatformStream _platform;
    private bool _reading;
    private bool _writing;
    private bool _writeShutdown;
    private int _closed;
    private DataStreamAdapter? _adapter;

    internal DataStream(EventLoop loop, PlatformStream platform)
    {
        Loop = loop;
        _platform = platform;
    }

    /// <summary>The loop this stream belongs to.</summary>
    public EventLoop Loop { get; }

    /// <summary>What the stream is, in words ("tcp 127.0.0.1:5000 -> 127.0.0.1:41234", "pipe fd 7").</summary>
    public string Description => _platform.Description;

    /// <summary>Whether <see cref="DisposeAsync"/> has been called.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>
    /// Whether a write abandoned by cancellation may still complete: a blocking write on a worker thread (what a stream
    /// the reactor cannot poll uses) cannot be called back, so its bytes may arrive after the caller saw it cancelled,
    /// and its buffer stays in use until then. A writer that counts what it lost, or reuses its buffer, needs to know.
    /// </summary>
    public bool WritesOutliveCancellation => _platform.WritesOutliveCancellation;

    internal PlatformStream Platform => _platform;

    /// <summary>Reads into <paramref name="buffer"/>: at least one byte, or 0 at end of stream.</summary>
    /// <param name="buffer">Where to put the data; empty to wait for data without consuming it.</param>
    /// <param name="cancellationToken">Ends the wait early; so does cancelling the calling task.</param>
    /// <exception cref="ObjectDisposedException">The stream is closed.</exception>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckUsable();
        if (_platform.GuardsConcurrentOperations) return _platform.ReadAsync(buffer, cancellationToken);
        if (_reading) throw new InvalidOperationException($"A read is already in progress on {Description}; one reader at a time.");
        var pending = _platform.ReadAsync(buffer, cancellationToken);
        if (pending.IsCompletedSuccessfully) return pending;
        return TrackRead(pending);
    }

    /// <summary>
    /// Waits until data may be available, as a read into an empty buffer does (<see cref="ReadAsync"/>), and returns true;
    /// returns false if the wait is cancelled, where that read throws <see cref="OperationCanceledException"/>. For a wait
    /// whose cancellation is routine: a stopping server ends every idle connection's wait at once. On sockets (every
    /// reactor, and a simulation) the cancellation makes no exception at all.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait early (false); so does cancelling the calling task.</param>
    /// <returns>True when data, the end of the stream or an error is there for the next read; false once cancelled.</returns>
    /// <exception cref="ObjectDisposedException">The stream is (or gets) closed.</exception>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public ValueTask<bool> WaitForDataAsync(CancellationToken cancellationToken = default)
    {
        CheckUsable();
        return _platform.GuardsConcurrentOperations ? _platform.WaitForDataAsync(cancellationToken) : TrackWaitForData(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TrackWaitForData(CancellationToken cancellationToken)
    {
        try
        {
            await ReadAsync(Memory<byte>.Empty, cancellationToken); // tracked there
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> TrackRead(ValueTask<int> pending)
    {
        _reading = true;
        // A plain await: some platform streams complete with a Task (worker threads), and a context-free continuation on a
        // Task completed on the loop would be sent to the thread pool. The epoll platform streams skip this wrapper.
        try { return await pending; }
        finally { _reading = false; }
    }

    /// <summary>Writes every byte of <paramref name="data"/>; completes once the kernel has them all.</summary>
    /// <param name="data">What to write.</param>
    /// <param name="cancellationToken">Ends the wait early (some bytes may already be written).</param>
    /// <exception cref="ObjectDisposedException">The stream is closed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress, or writing was shut down.</exception>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        CheckUsable();
        if (_writeShutdown) throw new InvalidOperationException($"Writing was shut down on {Description}.");
        if (_platform.GuardsConcurrentOperations) return _platform.WriteAsync(data, cancellationToken);
        if (_writing) throw new InvalidOperationException($"A write is already in progress on {Description}; one writer at a time.");
        var pending = _platform.WriteAsync(data, cancellationToken);
        if (pending.IsCompletedSuccessfully) return pending;
        return TrackWrite(pending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask TrackWrite(ValueTask pending)
    {
        _writing = true;
        try { await pending; } // see TrackRead
        finally { _writing = false; }
    }

    /// <summary>Completes once buffered data is on its way (a no-op for unbuffered streams).</summary>
    /// <param name="cancellationToken">Ends the wait early.</param>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        CheckUsable();
        return _platform.FlushAsync(cancellationToken);
    }

    /// <summary>Half-close: tells the peer no more data will come (TCP FIN) while this side can still read.</summary>
    public void ShutdownWrite()
    {
        CheckUsable();
        if (_writeShutdown) return;
        _writeShutdown = true;
        _platform.ShutdownWrite();
    }

    /// <summary>A <see cref="Stream"/> over this data stream, for the .NET stream ecosystem (the same object each time).</summary>
    public Stream AsStream() => _adapter ??= new DataStreamAdapter(this);

    /// <summary>A <see cref="PipeReader"/> and <see cref="PipeWriter"/> over this stream (System.IO.Pipelines).</summary>
    /// <param name="readerOptions">Buffer sizes and pooling for the reader; null for defaults.</param>
    /// <param name="writerOptions">Buffer sizes and pooling for the writer; null for defaults.</param>
    public IDuplexPipe AsPipe(StreamPipeReaderOptions? readerOptions = null, StreamPipeWriterOptions? writerOptions = null)
    {
        var stream = AsStream();
        return new DuplexPipe(
            PipeReader.Create(stream, readerOptions ?? new StreamPipeReaderOptions(leaveOpen: true)),
            PipeWriter.Create(stream, writerOptions ?? new StreamPipeWriterOptions(leaveOpen: true)));
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>Closes the stream; completes when the OS resource is released. Safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        await _platform.CloseAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the stream (see <see cref="DisposeAsync"/>).</summary>
    public void Dispose()
    {
        var pending = DisposeAsync();
        if (!pending.IsCompleted) pending.AsTask().GetAwaiter().GetResult();
    }

    private void CheckUsable()
    {
        Loop.CheckThread();
        if (Volatile.Read(ref _closed) != 0) throw new ObjectDisposedException(Description, $"{Description} is closed.");
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}
