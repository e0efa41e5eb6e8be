using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Meanwhile.Http.WebSockets;

/// <summary>The receiving half: frames read and checked, messages delivered whole or in pieces, control frames handled.</summary>
public sealed partial class LoopWebSocket
{
    // A payload piece at least this large is read straight into the caller's buffer rather than through the read buffer.
    private const int DirectReadBytes = 2048;

    private byte[]? _in; // rented while bytes are being received; null while idle
    private int _inStart;
    private int _inEnd;
    private bool _receiving;
    private bool _inFrame; // a data frame's payload is being delivered
    private bool _frameFin;
    private bool _frameMasked;
    private int _frameMask;
    private int _maskOffset;
    private long _frameLeft;
    private WebSocketMessageKind _message; // 0 between messages
    private long _messageBytes;
    private Utf8Validation _utf8;

    /// <summary>
    /// Receives the next piece of a message into <paramref name="buffer"/>: at most one frame's worth, and the end of a
    /// message ends a piece. Streamed reading for messages of any size within the limit.
    /// </summary>
    /// <param name="buffer">Where the bytes go.</param>
    /// <param name="cancellationToken">Ends the wait; nothing is lost, the next receive goes on where this one stopped.</param>
    /// <returns>The piece; its kind is <see cref="WebSocketMessageKind.Close"/> once the peer closed (the handshake is then complete).</returns>
    /// <exception cref="LoopWebSocketException">The peer broke the protocol (the connection is closed with the code it carries), or the connection dropped.</exception>
    /// <exception cref="InvalidOperationException">Another receive is in progress, or the connection was already closed.</exception>
    public ValueTask<WebSocketReadResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckThread();
        if (_receiving) throw new InvalidOperationException("A receive is already in progress on this WebSocket; one at a time.");
        return ReceiveGuardedAsync(buffer, cancellationToken);
    }

    /// <summary>Receives a whole message into <paramref name="destination"/> (streamed: pieces are written as they arrive).</summary>
    /// <param name="destination">Where the message's bytes go.</param>
    /// <param name="cancellationToken">Ends the wait (what was written stays written).</param>
    /// <returns>The message's kind, or <see cref="WebSocketMessageKind.Close"/> once the peer closed.</returns>
    /// <exception cref="LoopWebSocketException">The peer broke the protocol, or the connection dropped.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // one box per message otherwise
    public async ValueTask<WebSocketMessageKind> ReceiveMessageAsync(IBufferWriter<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        while (true)
        {
            if (IsIdle)
            {
                // Wait for data here rather than inside the receive below, which then finds it and completes without
                // suspending: one suspended async call per message instead of two (with many connections the pooled
                // boxes overflow their cache, so each suspension allocated one), and one held while idle.
                CheckThread();
                if (_receiving) throw new InvalidOperationException("A receive is already in progress on this WebSocket; one at a time.");
                _receiving = true;
                try
                {
                    await WaitForDataAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (IsDrop(e, cancellationToken))
                {
                    throw Dropped(e);
                }
                finally
                {
                    _receiving = false;
                }
                RentInput();
            }
            // The frame's length, when known, sizes the piece: a message in one frame lands in one piece.
            int hint = _inFrame ? (int)Math.Clamp(_frameLeft, 1, 64 * 1024) : 4096;
            // The receive is this socket's own pooled wait, completed on the loop: resuming inline skips a queue trip.
            var result = await ReceiveAsync(destination.GetMemory(hint), cancellationToken).ConfigureAwait(false);
            destination.Advance(result.Count);
            if (result.EndOfMessage) return result.Kind;
        }
    }

    /// <summary>Receives a whole message into a new array.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>The message (its kind is <see cref="WebSocketMessageKind.Close"/> once the peer closed).</returns>
    /// <exception cref="LoopWebSocketException">The peer broke the protocol, or the connection dropped.</exception>
    public async ValueTask<WebSocketMessage> ReceiveMessageAsync(CancellationToken cancellationToken = default)
    {
        var gathered = new PooledByteBuffer(0);
        try
        {
            var kind = await ReceiveMessageAsync(gathered, cancellationToken);
            return new WebSocketMessage(kind, gathered.WrittenSpan.ToArray());
        }
        finally
        {
            gathered.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WebSocketReadResult> ReceiveGuardedAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        _receiving = true;
        try
        {
            // Idle between frames: wait for data here, with no buffer, before the frame reader's deeper async calls
            // exist; an idle connection then holds this one call's state, not four (docs/benchmarks-history.md).
            if (IsIdle)
            {
                await WaitForDataAsync(cancellationToken).ConfigureAwait(false);
                RentInput();
            }
            return await ReceiveCoreAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsDrop(e, cancellationToken))
        {
            // The connection broke under the read (or was closed by a timeout, whose failure is recorded).
            throw Dropped(e);
        }
        finally
        {
            _receiving = false;
            if (_inStart == _inEnd || _transportClosed) ReleaseInput();
        }
    }

    /// <summary>Between frames with no bytes buffered: a receive waits for data without a buffer.</summary>
    private bool IsIdle => _in is null && !_inFrame && !_inflating && _failure is null && _state is LoopWebSocketState.Open or LoopWebSocketState.CloseSent;

    /// <summary>
    /// Waits with no buffer until the connection is readable (Kestrel's zero-byte read); then <see cref="RentInput"/>.
    /// Awaited by the caller itself: an async helper would be one more suspended call per message.
    /// </summary>
    private ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken) => _transport.ReadAsync(Memory<byte>.Empty, cancellationToken);

    private static bool IsDrop(Exception e, CancellationToken cancellationToken) =>
        e is ObjectDisposedException or SystemCallException or IOException && !cancellationToken.IsCancellationRequested;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WebSocketReadResult> ReceiveCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_failure is not null) throw _failure;
            if (_state == LoopWebSocketState.Closed) return new WebSocketReadResult(0, WebSocketMessageKind.Close, true);
            if (_state == LoopWebSocketState.Aborted) throw new LoopWebSocketException(CloseCode ?? WebSocketCloseCode.AbnormalClosure, "The WebSocket was aborted.");

            if (_inflating)
            {
                // A compressed message: its payload goes through the decompressor until a frame's end needs the next header.
                if (await ReceiveInflatedAsync(buffer, cancellationToken).ConfigureAwait(false) is { } inflated) return inflated;
                if (_failure is not null) await FailAsync(_failure.CloseCode, _failure.Message);
            }

            if (_inFrame)
            {
                int want = (int)Math.Min(buffer.Length, _frameLeft);
                int n;
                if (_inEnd > _inStart)
                {
                    n = Math.Min(want, _inEnd - _inStart);
                    _in.AsSpan(_inStart, n).CopyTo(buffer.Span);
                    _inStart += n;
                }
                else if (want >= DirectReadBytes)
                {
                    n = await _transport.ReadAsync(buffer[..want], cancellationToken).ConfigureAwait(false);
                    if (n == 0) throw Dropped(null);
                }
                else
                {
                    await FillAsync(1, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (Deliver(buffer.Span[..n]) is { } piece) return piece;
                await FailAsync(_failure!.CloseCode, _failure.Message);
            }

            var header = await ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
            if (header.IsControl)
            {
                await FillAsync((int)header.PayloadLength, cancellationToken).ConfigureAwait(false);
                if (await OnControlFrameAsync(header, cancellationToken).ConfigureAwait(false) is { } closed) return closed;
                continue;
            }
            if (StartFrame(header) is { } empty) return empty;
            if (_failure is not null) await FailAsync(_failure.CloseCode, _failure.Message);
        }
    }

    /// <summary>Reads and checks the next frame header, then takes it off the buffer.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FrameHeader> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int parsed = FrameHeader.Parse(_in.AsSpan(_inStart, _inEnd - _inStart), _compression is not null, out var header, out string? error);
            if (parsed < 0) await FailAsync(WebSocketCloseCode.ProtocolError, error!);
            if (parsed == 0)
            {
                await FillAsync(Math.Max(_inEnd - _inStart + 1, 2), cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (header.Masked != _isServer)
            {
                await FailAsync(WebSocketCloseCode.ProtocolError, _isServer ? "an unmasked frame from a client" : "a masked frame from a server");
            }
            _inStart += parsed;
            HeardFromPeer();
            return header;
        }
    }

    /// <summary>Begins a data frame's payload; returns a result at once for an empty final frame, null to go on reading.</summary>
    private WebSocketReadResult? StartFrame(FrameHeader header)
    {
        if (header.Opcode == Opcode.Continuation)
        {
            if (_message == 0) return Refuse(WebSocketCloseCode.ProtocolError, "a continuation frame with no message to continue");
            if (header.Compressed) return Refuse(WebSocketCloseCode.ProtocolError, "RSV1 on a continuation frame (only a message's first frame says it is compressed)");
        }
        else
        {
            if (_message != 0) return Refuse(WebSocketCloseCode.ProtocolError, "a new message began before the previous one ended");
            _message = (WebSocketMessageKind)header.Opcode;
            _messageBytes = 0;
            _utf8.Reset();
            StartMessage(header.Compressed);
        }
        if (_inflating)
        {
            // The inflated size counts as it inflates; the compressed bytes are bounded too (a stream of empty blocks is work for nothing).
            long wireBytes = _compression!.WireBytes += header.PayloadLength;
            if (wireBytes > MaxCompressedBytes)
                return Refuse(WebSocketCloseCode.MessageTooBig, $"a compressed message of at least {wireBytes} bytes (the limit is {_options.MaxMessageBytes} inflated)");
        }
        else
        {
            // Refused on the declared length, before a byte of the payload is read.
            _messageBytes += header.PayloadLength;
            if (_messageBytes > _options.MaxMessageBytes)
                return Refuse(WebSocketCloseCode.MessageTooBig, $"a message of at least {_messageBytes} bytes (the limit is {_options.MaxMessageBytes})");
        }
        _frameFin = header.Fin;
        _frameMasked = header.Masked;
        _frameMask = header.MaskKey;
        _maskOffset = 0;
        _frameLeft = header.PayloadLength;
        if (_inflating) return null; // even an empty final frame has the tail to inflate
        _inFrame = header.PayloadLength > 0;
        if (_inFrame || !header.Fin) return null;
        return Deliver([]);
    }

    /// <summary>Unmasks and checks a received piece of payload; null when it failed the connection (see <see cref="_failure"/>).</summary>
    private WebSocketReadResult? Deliver(Span<byte> piece)
    {
        if (_frameMasked) _maskOffset = FrameMask.Apply(piece, _frameMask, _maskOffset);
        _frameLeft -= piece.Length;
        var kind = _message;
        if (kind == WebSocketMessageKind.Text && !_utf8.Append(piece)) return Refuse(WebSocketCloseCode.InvalidPayloadData, "a text message that is not valid UTF-8");
        if (_frameLeft > 0) return new WebSocketReadResult(piece.Length, kind, false);
        _inFrame = false;
        if (!_frameFin) return new WebSocketReadResult(piece.Length, kind, false);
        if (kind == WebSocketMessageKind.Text && !_utf8.IsComplete) return Refuse(WebSocketCloseCode.InvalidPayloadData, "a text message that ends inside a UTF-8 sequence");
        _message = 0;
        return new WebSocketReadResult(piece.Length, kind, true);
    }

    /// <summary>A ping, pong or close whose payload is buffered; returns the result to hand out for a close, null to go on.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WebSocketReadResult?> OnControlFrameAsync(FrameHeader header, CancellationToken cancellationToken)
    {
        int length = (int)header.PayloadLength;
        byte[]? pong = header.Opcode == Opcode.Ping && _state == LoopWebSocketState.Open ? ArrayPool<byte>.Shared.Rent(Math.Max(length, 1)) : null;
        if (header.Opcode == Opcode.Close) ReadClosePayload(length, header);
        else
        {
            var payload = _in.AsSpan(_inStart, length);
            if (header.Masked) FrameMask.Apply(payload, header.MaskKey, 0);
            if (pong is not null) payload.CopyTo(pong);
        }
        _inStart += length;
        if (pong is not null)
        {
            try
            {
                await SendControlAsync(Opcode.Pong, pong.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(pong);
            }
        }
        // Unsolicited pongs are allowed (RFC 6455 5.5.3); hearing any frame already reset the keep-alive.
        if (header.Opcode != Opcode.Close) return null;
        if (_failure is not null) await FailAsync(_failure.CloseCode, _failure.Message);
        await OnPeerClosedAsync().ConfigureAwait(false);
        return new WebSocketReadResult(0, WebSocketMessageKind.Close, true);
    }

    /// <summary>Checks a close frame's payload and records its code and reason (or the failure it is).</summary>
    private void ReadClosePayload(int length, FrameHeader header)
    {
        var payload = _in.AsSpan(_inStart, length);
        if (header.Masked) FrameMask.Apply(payload, header.MaskKey, 0);
        if (length == 1)
        {
            Refuse(WebSocketCloseCode.ProtocolError, "a close frame with a one-byte payload");
            return;
        }
        int code = length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : (int)WebSocketCloseCode.NoStatusReceived;
        if (length >= 2 && !CloseCodes.IsValidOnWire(code)) Refuse(WebSocketCloseCode.ProtocolError, $"the invalid close code {code}");
        else if (length > 2 && !System.Text.Unicode.Utf8.IsValid(payload[2..])) Refuse(WebSocketCloseCode.InvalidPayloadData, "a close reason that is not valid UTF-8");
        else
        {
            CloseCode = (WebSocketCloseCode)code;
            CloseReason = length > 2 ? Encoding.UTF8.GetString(payload[2..]) : "";
        }
    }

    /// <summary>Makes sure at least <paramref name="count"/> bytes are buffered; the read buffer is rented only once data is there.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_inEnd - _inStart >= count) return;
        if (_in is null)
        {
            // Idle: wait for data with no buffer (Kestrel's zero-byte read), then rent one.
            await WaitForDataAsync(cancellationToken).ConfigureAwait(false);
            RentInput();
        }
        else if (_in.Length - _inStart < count || _inStart == _inEnd)
        {
            // Move what is left to the front (a header or a control frame is at most 139 bytes, so it always fits).
            _in.AsSpan(_inStart, _inEnd - _inStart).CopyTo(_in);
            _inEnd -= _inStart;
            _inStart = 0;
        }
        while (_inEnd - _inStart < count)
        {
            int n = await _transport.ReadAsync(_in.AsMemory(_inEnd), cancellationToken).ConfigureAwait(false);
            if (n == 0) throw Dropped(null);
            _inEnd += n;
        }
    }

    /// <summary>Records a protocol failure to act on (<see cref="FailAsync"/>); returns null so callers can return it.</summary>
    private WebSocketReadResult? Refuse(WebSocketCloseCode code, string reason)
    {
        _failure ??= new LoopWebSocketException(code, $"The peer sent {reason}; closed with {(int)code}.");
        return null;
    }

    /// <summary>The connection ended without a close handshake (or was cut by a timeout, whose failure is kept).</summary>
    private LoopWebSocketException Dropped(Exception? cause)
    {
        if (_failure is null)
        {
            _state = LoopWebSocketState.Aborted;
            CloseCode ??= WebSocketCloseCode.AbnormalClosure;
            CloseReason ??= "";
            _failure = new LoopWebSocketException(WebSocketCloseCode.AbnormalClosure, "The connection closed without a close handshake.", cause);
        }
        return _failure;
    }

    private void RentInput()
    {
        _in = ArrayPool<byte>.Shared.Rent(_options.ReceiveBufferBytes);
        _inStart = _inEnd = 0;
    }

    private void ReleaseInput()
    {
        if (_in is { } buffer)
        {
            _in = null;
            _inStart = _inEnd = 0;
            if (!_transportClosed || !_receiving) ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
