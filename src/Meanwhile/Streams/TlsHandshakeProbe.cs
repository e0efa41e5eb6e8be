using System.Buffers;
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
/// <para>
/// Why the handshake needs that: SslStream's handshake reads go through an async method of its own that returns a
/// task-backed value task (<c>ReceiveHandshakeFrameAsync</c>), awaited with <c>ConfigureAwait(false)</c>. A task whose
/// continuation asked for no context runs it inline only where no synchronization context is installed; on the loop
/// thread the loop's is, so the runtime sent the rest of the handshake to the thread pool, and from there every read and
/// write came back to the loop through posts: a thread wake-up and a spinning pool thread per handshake. The data path
/// after the handshake awaits no task, so reads pass straight through then.
/// </para>
/// <para>
/// On a server it also holds the handshake's writes (<paramref name="holdHandshakeWrites"/>): a flight waits for the
/// read that follows it, and the last one (TLS 1.3's session tickets, written as the handshake ends) for the first
/// write or read after the handshake, so the tickets leave with the first response in one send instead of one of their
/// own. Nothing is held past a read: the peer never waits for held bytes. A client holds nothing (its last flight, the
/// Finished, must not wait for the application's first request).
/// </para>
/// </remarks>
internal sealed class TlsHandshakeProbe(Stream socket, EventLoop loop, bool holdHandshakeWrites) : Stream, IValueTaskSource<int>
{
    // The first response (or several TLS records of it) joins the held tickets up to this size; a larger one is sent
    // after them, separately.
    private const int MaxJoinedBytes = 32 * 1024;

    private int _firstByte = -1;
    private bool _handshakeEnded;
    private ManualResetValueTaskSourceCore<int> _read; // one read at a time, as SslStream does
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _pending;
    private Memory<byte> _pendingBuffer;
    private Action? _onPendingCompleted;
    private byte[]? _held; // handshake bytes not sent yet (pooled), and how many
    private int _heldLength;
    private Task? _sending; // held bytes the socket did not take at once (a full socket: rare)

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
        if (_held is not null || _sending is not null)
        {
            var sent = SendHeld();
            if (!sent.IsCompletedSuccessfully) return ReadAfterAsync(sent, buffer, cancellationToken);
        }
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

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_held is null && _sending is null && (_handshakeEnded || !holdHandshakeWrites)) return socket.WriteAsync(buffer, cancellationToken);
        if (_sending is not null) return WriteAfterAsync(SendHeld(), buffer, cancellationToken);
        if (!_handshakeEnded || buffer.Length <= MaxJoinedBytes)
        {
            Hold(buffer.Span);
            return _handshakeEnded ? SendHeld() : default; // after the handshake: the held flight and this write, in one send
        }
        var sent = SendHeld();
        return sent.IsCompletedSuccessfully ? socket.WriteAsync(buffer, cancellationToken) : WriteAfterAsync(sent, buffer, cancellationToken);
    }

    /// <summary>Sends what the handshake left held (an alert before a failure is reported, say); completes at once when nothing is.</summary>
    public ValueTask SendHeld()
    {
        if (_sending is { } sending) return new ValueTask(sending);
        if (_held is not { } held) return default;
        int length = _heldLength;
        _held = null;
        _heldLength = 0;
        ValueTask write;
        try
        {
            write = socket.WriteAsync(held.AsMemory(0, length));
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(held);
            throw;
        }
        if (write.IsCompletedSuccessfully)
        {
            write.GetAwaiter().GetResult();
            ArrayPool<byte>.Shared.Return(held);
            return default;
        }
        var finishing = FinishSendAsync(write, held);
        if (!finishing.IsCompleted) _sending = finishing;
        return new ValueTask(finishing);
    }

    /// <summary>Gives the held bytes back to the pool unsent (the connection is closing).</summary>
    public void DropHeld()
    {
        if (_held is { } held) ArrayPool<byte>.Shared.Return(held);
        _held = null;
        _heldLength = 0;
    }

    private void Hold(ReadOnlySpan<byte> data)
    {
        int needed = _heldLength + data.Length;
        if (_held is null || _held.Length < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
            if (_held is { } old)
            {
                old.AsSpan(0, _heldLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(old);
            }
            _held = larger;
        }
        data.CopyTo(_held.AsSpan(_heldLength));
        _heldLength = needed;
    }

    private async Task FinishSendAsync(ValueTask write, byte[] held)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(held);
            _sending = null;
        }
    }

    private async ValueTask<int> ReadAfterAsync(ValueTask sent, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        await sent; // a send that had to wait (Task-backed): resumes through the loop's context, not the pool
        return await ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask WriteAfterAsync(ValueTask sent, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await sent;
        await socket.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Held bytes stay held: they wait for the next read or write, which is what holding them is for.
    public override Task FlushAsync(CancellationToken cancellationToken) => socket.FlushAsync(cancellationToken);

    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) => socket.Read(buffer, offset, count);
    public override void Write(byte[] buffer, int offset, int count) => socket.Write(buffer, offset, count);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
