using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Meanwhile.Http.WebSockets;

/// <summary>The sending half: frames built and written one at a time, masked on a client, each write waiting for a slow peer.</summary>
public sealed partial class LoopWebSocket
{
    // A server copies a payload up to this size behind its header, for one write; a larger one is written where it is.
    private const int CopyBelowBytes = 16 * 1024;
    // A client masks a large payload through a buffer of this size.
    private const int MaskChunkBytes = 16 * 1024;

    [ThreadStatic]
    private static byte[]? s_maskKeys;
    [ThreadStatic]
    private static int s_maskKeyAt;

    private bool _writing;
    private Queue<TaskCompletionSource>? _writeWaiters;
    private WebSocketMessageKind _sending; // the kind of the fragmented message being sent; 0 between messages
    private bool _sendingCompressed; // whether the message being sent goes through the compressor

    /// <summary>
    /// Sends <paramref name="data"/> as a message, or as a piece of one: pieces sent with <paramref name="endOfMessage"/>
    /// false are frames of one fragmented message, which the piece with it true ends (streamed writing). Completes once
    /// the kernel has the bytes: a slow peer makes it wait.
    /// </summary>
    /// <param name="data">The bytes (UTF-8 for text: they are not checked).</param>
    /// <param name="kind">Text or binary; the same for every piece of a message.</param>
    /// <param name="endOfMessage">Whether this piece ends the message.</param>
    /// <param name="cancellationToken">Ends the wait for the turn to write (a frame half written cannot be taken back: then the connection is cut).</param>
    /// <exception cref="InvalidOperationException">This side already sent its close frame, or the kind differs from the message's.</exception>
    /// <exception cref="LoopWebSocketException">The connection dropped.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageKind kind, bool endOfMessage = true, CancellationToken cancellationToken = default)
    {
        CheckThread();
        if (kind is not (WebSocketMessageKind.Text or WebSocketMessageKind.Binary)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "Send text or binary; close with CloseAsync.");
        CheckCanSend();
        if (_sending != 0 && _sending != kind) throw new InvalidOperationException($"A {_sending} message is being sent in pieces; its pieces are {_sending} too.");
        var opcode = _sending != 0 ? Opcode.Continuation : (Opcode)kind;
        if (opcode != Opcode.Continuation) _sendingCompressed = ShouldCompress(data.Length);
        _sending = endOfMessage ? 0 : kind;
        return WriteFrameAsync(opcode, endOfMessage, data, _sendingCompressed, false, cancellationToken);
    }

    /// <summary>
    /// Sends a message encoded once for many connections (a broadcast): a server writes its frame as it is, compressed
    /// once for all connections that compress each message afresh; see <see cref="PreparedWebSocketMessage"/>.
    /// Completes once the kernel has the bytes: a slow peer makes it wait.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Ends the wait for the turn to write (a frame half written cannot be taken back: then the connection is cut).</param>
    /// <exception cref="InvalidOperationException">This side already sent its close frame, or a message is being sent in pieces.</exception>
    /// <exception cref="LoopWebSocketException">The connection dropped.</exception>
    public ValueTask SendAsync(PreparedWebSocketMessage message, CancellationToken cancellationToken = default)
    {
        CheckThread();
        ArgumentNullException.ThrowIfNull(message);
        CheckCanSend();
        if (_sending != 0) throw new InvalidOperationException($"A {_sending} message is being sent in pieces; a whole message waits until its last piece.");
        var opcode = (Opcode)message.Kind;
        bool deflate = ShouldCompress(message.Data.Length);
        // A client masks every frame with its own key; a compressor that keeps its context must see every message.
        if (!_isServer || deflate && !_compression!.Settings.ResetSendContext) return WriteFrameAsync(opcode, true, message.Data, deflate, false, cancellationToken);
        var frame = deflate ? message.CompressedFrameAt(_compression!.Settings.Options.Level) : message.Frame;
        return WriteFrameAsync(opcode, true, frame, false, encoded: true, cancellationToken);
    }

    /// <summary>Sends <paramref name="text"/> as one text message.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Ends the wait for the turn to write.</param>
    public async ValueTask SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            int length = Encoding.UTF8.GetBytes(text, bytes);
            await SendAsync(bytes.AsMemory(0, length), WebSocketMessageKind.Text, true, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>Sends a ping with <paramref name="payload"/> (at most 125 bytes); the peer answers with a pong, seen by the next receive.</summary>
    /// <param name="payload">Application data the pong echoes.</param>
    /// <param name="cancellationToken">Ends the wait for the turn to write.</param>
    public ValueTask PingAsync(ReadOnlyMemory<byte> payload = default, CancellationToken cancellationToken = default)
    {
        CheckThread();
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, FrameHeader.MaxControlPayload, nameof(payload));
        CheckCanSend();
        return SendControlAsync(Opcode.Ping, payload, cancellationToken);
    }

    private void CheckCanSend()
    {
        if (_failure is not null) throw _failure;
        if (_state != LoopWebSocketState.Open) throw new InvalidOperationException($"The WebSocket is {_state}: nothing more can be sent.");
    }

    private ValueTask SendControlAsync(Opcode opcode, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        WriteFrameAsync(opcode, true, payload, false, false, cancellationToken);

    /// <summary>
    /// Writes one frame when it is this frame's turn; frames never interleave. <paramref name="encoded"/>: the payload
    /// is the whole frame already (a prepared message's).
    /// </summary>
    private ValueTask WriteFrameAsync(Opcode opcode, bool fin, ReadOnlyMemory<byte> payload, bool deflate, bool encoded, CancellationToken cancellationToken)
    {
        if (_writing) return WriteAfterTurnAsync(opcode, fin, payload, deflate, encoded, cancellationToken);
        _writing = true;
        ValueTask pending;
        try
        {
            pending = WriteFrameNowAsync(opcode, fin, payload, deflate, encoded, cancellationToken);
        }
        catch
        {
            EndWriteTurn();
            throw;
        }
        if (pending.IsCompletedSuccessfully)
        {
            EndWriteTurn();
            return ValueTask.CompletedTask;
        }
        return EndTurnAfterAsync(pending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask EndTurnAfterAsync(ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        finally
        {
            EndWriteTurn();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAfterTurnAsync(Opcode opcode, bool fin, ReadOnlyMemory<byte> payload, bool deflate, bool encoded, CancellationToken cancellationToken)
    {
        var turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (_writeWaiters ??= new()).Enqueue(turn);
        using (cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource)state!).TrySetCanceled(token), turn))
        {
            try
            {
                await turn.Task; // a Task: awaited plainly, it resumes on the loop
            }
            catch (OperationCanceledException) when (!turn.Task.IsCompletedSuccessfully)
            {
                throw; // left the queue without the turn (EndWriteTurn skips cancelled waiters)
            }
        }
        try
        {
            await WriteFrameNowAsync(opcode, fin, payload, deflate, encoded, cancellationToken);
        }
        finally
        {
            EndWriteTurn();
        }
    }

    /// <summary>Passes the turn to the next waiting frame, or frees it.</summary>
    private void EndWriteTurn()
    {
        while (_writeWaiters is { Count: > 0 } waiters)
        {
            if (waiters.Dequeue().TrySetResult()) return;
        }
        _writing = false;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteFrameNowAsync(Opcode opcode, bool fin, ReadOnlyMemory<byte> payload, bool deflate, bool encoded, CancellationToken cancellationToken)
    {
        if (_transportClosed) throw _failure ?? new LoopWebSocketException(CloseCode ?? WebSocketCloseCode.AbnormalClosure, "The connection is closed.");
        byte[]? frame = null;
        try
        {
            if (encoded)
            {
                await _transport.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
                return;
            }
            if (deflate) payload = Compress(payload, fin);
            int? maskKey = _isServer ? null : NewMaskKey();
            // The frame's bytes come from the pool for this write only: an idle connection holds no output buffer, nor an object for one.
            int copied = maskKey is null ? (payload.Length < CopyBelowBytes ? payload.Length : 0) : Math.Min(payload.Length, MaskChunkBytes);
            frame = ArrayPool<byte>.Shared.Rent(FrameHeader.MaxLength + copied);
            // RSV1 marks a compressed message on its first frame only (RFC 7692 6).
            int headLength = FrameHeader.Write(frame, opcode, fin, deflate && opcode != Opcode.Continuation, payload.Length, maskKey);
            if (maskKey is int key)
            {
                // A client masks a copy: the caller's bytes stay as they were. Large payloads go through in chunks.
                int offset = 0, at = 0, start = headLength;
                do
                {
                    int n = Math.Min(payload.Length - at, MaskChunkBytes);
                    offset = FrameMask.CopyMasked(payload.Span.Slice(at, n), frame.AsSpan(start, n), key, offset);
                    at += n;
                    await _transport.WriteAsync(frame.AsMemory(0, start + n), cancellationToken).ConfigureAwait(false);
                    start = 0;
                }
                while (at < payload.Length);
            }
            else if (copied > 0 || payload.IsEmpty)
            {
                payload.Span.CopyTo(frame.AsSpan(headLength));
                await _transport.WriteAsync(frame.AsMemory(0, headLength + payload.Length), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _transport.WriteAsync(frame.AsMemory(0, headLength), cancellationToken).ConfigureAwait(false);
                await _transport.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SystemCallException or IOException)
        {
            throw Dropped(e);
        }
        catch (OperationCanceledException)
        {
            // Part of the frame may be out: the stream cannot carry another frame, so the connection is cut.
            Dropped(null);
            await CloseTransportAsync();
            throw;
        }
        finally
        {
            if (frame is not null) ArrayPool<byte>.Shared.Return(frame);
            _compression?.Deflater?.ReleaseOutput();
        }
    }

    /// <summary>
    /// A client frame's mask key (RFC 6455 5.3: unpredictable, from a strong source): the system's CSPRNG, 64 keys per
    /// call. One call per frame (OpenSSL's RAND_bytes, and the getpid it makes each time) was about an eighth of a client's
    /// CPU for small messages (perf, `meanwhile bench ws://`).
    /// </summary>
    private static int NewMaskKey()
    {
        var keys = s_maskKeys ??= new byte[256];
        if (s_maskKeyAt == 0) RandomNumberGenerator.Fill(keys);
        int key = BitConverter.ToInt32(keys, s_maskKeyAt);
        s_maskKeyAt = (s_maskKeyAt + 4) % keys.Length;
        return key;
    }
}
