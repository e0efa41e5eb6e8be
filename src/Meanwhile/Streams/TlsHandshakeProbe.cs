using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>
/// The stream SslStream reads and writes under a <see cref="TlsStream"/>: the socket's adapter, noting the first byte
/// the peer sent, so a failed handshake can tell "not TLS at all" (plain HTTP on a TLS port) from a TLS failure; and,
/// until the handshake ends, resuming SslStream's reads with no synchronization context, so the handshake stays on the
/// loop thread.
/// </summary>
/// <remarks>
/// Why the handshake needs that: SslStream's handshake reads go through an async method of its own that returns a
/// task-backed value task (<c>ReceiveHandshakeFrameAsync</c>), awaited with <c>ConfigureAwait(false)</c>. A task whose
/// continuation asked for no context runs it inline only where no synchronization context is installed; on the loop
/// thread the loop's is, so the runtime sent the rest of the handshake to the thread pool, and from there every read and
/// write came back to the loop through posts: a thread wake-up and a spinning pool thread per handshake. The data path
/// after the handshake awaits no task, so reads pass straight through then.
/// </remarks>
internal sealed class TlsHandshakeProbe(Stream socket, EventLoop loop) : Stream, IValueTaskSource<int>
{
    private int _firstByte = -1;
    private bool _handshakeEnded;
    private ManualResetValueTaskSourceCore<int> _read; // one read at a time, as SslStream does
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _pending;
    private Memory<byte> _pendingBuffer;
    private Action? _onPendingCompleted;

    /// <summary>The first byte received, or null before any.</summary>
    public byte? FirstByte => _firstByte < 0 ? null : (byte)_firstByte;

    /// <summary>From now on reads pass straight through (the data path resumes inline without help).</summary>
    public void HandshakeEnded() => _handshakeEnded = true;

    public override bool CanRead => socket.CanRead;
    public override bool CanWrite => socket.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var pending = socket.ReadAsync(buffer, cancellationToken);
        if (_handshakeEnded) return pending;
        if (pending.IsCompletedSuccessfully)
        {
            // Consumed here, once (a source-backed value task may not be read twice): the caller gets the plain result.
            int n = pending.Result;
            NoteFirstByte(buffer, n);
            return new ValueTask<int>(n);
        }
        if (pending.IsCompleted || !loop.IsLoopThread) return pending; // a failure to throw, or a caller off the loop
        _pendingBuffer = buffer;
        _pending = pending.ConfigureAwait(false).GetAwaiter();
        _read.Reset();
        _pending.UnsafeOnCompleted(_onPendingCompleted ??= OnPendingCompleted);
        return new ValueTask<int>(this, _read.Version);
    }

    private void OnPendingCompleted()
    {
        if (!loop.IsLoopThread)
        {
            // A platform stream that completed off the loop (worker threads): finish on the loop, as everything else does.
            loop.Post(static s => ((TlsHandshakeProbe)s!).OnPendingCompleted(), this);
            return;
        }
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            int n = _pending.GetResult();
            NoteFirstByte(_pendingBuffer, n);
            _pendingBuffer = default;
            _read.SetResult(n); // resumes SslStream inline, with no context: its task continuations run here too
        }
        catch (Exception e)
        {
            _pendingBuffer = default;
            _read.SetException(e);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void NoteFirstByte(Memory<byte> buffer, int n)
    {
        if (_firstByte < 0 && n > 0) _firstByte = buffer.Span[0];
    }

    int IValueTaskSource<int>.GetResult(short token) => _read.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);

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
