using System.Runtime.CompilerServices;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// permessage-deflate on the connection (RFC 7692): compressed messages received through the decompressor, counted
/// against the size limit as they inflate; the compressor and decompressor freed when the connection ends.
/// </summary>
public sealed partial class LoopWebSocket
{
    // null: not negotiated, RSV1 is a protocol error. One object, so a connection without compression pays one field.
    private readonly CompressionState? _compression;
    private bool _inflating; // the message being received is compressed

    private enum InflateStep
    {
        Piece,
        Failed,
        NeedPayload,
        NeedFrame,
    }

    /// <summary>The compressed bytes a message may take: its inflated limit, plus what deflate's block headers may add to incompressible data.</summary>
    private long MaxCompressedBytes => _options.MaxMessageBytes + _options.MaxMessageBytes / 1024 + 1024;

    private void StartMessage(bool compressed)
    {
        _inflating = compressed;
        if (!compressed) return;
        _compression!.WireBytes = 0;
        _compression.TailAt = 0;
    }

    /// <summary>
    /// Receives the next piece of a compressed message; null when the current frame's payload is all taken and the
    /// next frame's header is needed (or when the message failed: see <see cref="_failure"/>).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WebSocketReadResult?> ReceiveInflatedAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            switch (InflateBuffered(buffer.Span, out var piece))
            {
                case InflateStep.Piece:
                    return piece;
                case InflateStep.NeedPayload:
                    await FillAsync(1, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    return null;
            }
        }
    }

    /// <summary>Inflates what is buffered of the message into <paramref name="buffer"/>, never more than one byte past the size limit.</summary>
    private InflateStep InflateBuffered(Span<byte> buffer, out WebSocketReadResult piece)
    {
        piece = default;
        if (buffer.IsEmpty)
        {
            piece = new WebSocketReadResult(0, _message, false);
            return InflateStep.Piece;
        }
        var compression = _compression!;
        var inflater = compression.Inflater ??= new MessageInflater(compression.Settings);
        long room = _options.MaxMessageBytes - _messageBytes + 1;
        var destination = buffer.Length > room ? buffer[..(int)room] : buffer;
        while (true)
        {
            bool payloadTaken = _frameLeft == 0 && _frameFin;
            int offered, produced, consumed;
            try
            {
                if (payloadTaken)
                {
                    offered = MessageInflater.Tail.Length - compression.TailAt;
                    produced = inflater.InflateTail(compression.TailAt, destination, out consumed);
                    compression.TailAt += consumed;
                }
                else
                {
                    offered = (int)Math.Min(_inEnd - _inStart, _frameLeft);
                    int? key = _frameMasked ? _frameMask : null;
                    produced = inflater.Inflate(_in ?? [], _inStart, offered, key, ref _maskOffset, destination, out consumed);
                    _inStart += consumed;
                    _frameLeft -= consumed;
                }
            }
            catch (InvalidDataException)
            {
                Refuse(WebSocketCloseCode.InvalidPayloadData, "a compressed message that is not valid DEFLATE data");
                return InflateStep.Failed;
            }
            bool inputDone = _frameFin && _frameLeft == 0 && compression.TailAt == MessageInflater.Tail.Length;
            if (produced > 0)
            {
                // zlib stops short of the buffer's end only once it has taken all its input: then, with the tail in, the message is whole.
                return DeliverInflated(buffer[..produced], inputDone && produced < destination.Length, false, out piece);
            }
            if (offered > 0 && consumed == 0)
            {
                // Nothing taken, nothing given: the DEFLATE stream ended with a final block, and only the tail may follow it.
                if (!payloadTaken)
                {
                    Refuse(WebSocketCloseCode.InvalidPayloadData, "compressed data past the end of its DEFLATE stream");
                    return InflateStep.Failed;
                }
                return DeliverInflated([], true, true, out piece);
            }
            if (inputDone) return DeliverInflated([], true, false, out piece);
            if (consumed > 0) continue;
            return _frameLeft > 0 ? InflateStep.NeedPayload : InflateStep.NeedFrame;
        }
    }

    /// <summary>Counts and checks an inflated piece; at the message's end, checks it whole and lets the decompressor go when agreed.</summary>
    private InflateStep DeliverInflated(Span<byte> inflated, bool endOfMessage, bool streamFinished, out WebSocketReadResult piece)
    {
        piece = default;
        _messageBytes += inflated.Length;
        var kind = _message;
        if (_messageBytes > _options.MaxMessageBytes)
            Refuse(WebSocketCloseCode.MessageTooBig, $"a compressed message that inflates past {_options.MaxMessageBytes} bytes (the limit)");
        else if (kind == WebSocketMessageKind.Text && !_utf8.Append(inflated))
            Refuse(WebSocketCloseCode.InvalidPayloadData, "a text message that is not valid UTF-8");
        else if (endOfMessage && kind == WebSocketMessageKind.Text && !_utf8.IsComplete)
            Refuse(WebSocketCloseCode.InvalidPayloadData, "a text message that ends inside a UTF-8 sequence");
        if (_failure is not null) return InflateStep.Failed;
        if (endOfMessage)
        {
            _message = 0;
            _inflating = false;
            _compression!.Inflater!.EndMessage(streamFinished);
        }
        piece = new WebSocketReadResult(inflated.Length, kind, endOfMessage);
        return InflateStep.Piece;
    }

    /// <summary>Whether a message whose first piece is <paramref name="firstPieceBytes"/> long goes compressed.</summary>
    private bool ShouldCompress(int firstPieceBytes) => _compression is { } compression && firstPieceBytes >= compression.Settings.Options.ThresholdBytes;

    /// <summary>Compresses a piece of a message being sent (inside its write turn, so the compressor sees the frames in order).</summary>
    private ReadOnlyMemory<byte> Compress(ReadOnlyMemory<byte> piece, bool endOfMessage) =>
        (_compression!.Deflater ??= new MessageDeflater(_compression.Settings)).Compress(piece.Span, endOfMessage);

    private void ReleaseCompression()
    {
        _compression?.Inflater?.Dispose();
        _compression?.Deflater?.Dispose();
    }

    /// <summary>The agreed settings, and the compressor and decompressor with the message's progress through them.</summary>
    private sealed class CompressionState(DeflateSettings settings)
    {
        public DeflateSettings Settings { get; } = settings;

        public MessageDeflater? Deflater { get; set; }

        public MessageInflater? Inflater { get; set; }

        /// <summary>How much of the 00 00 ff ff tail went into the decompressor.</summary>
        public int TailAt { get; set; }

        /// <summary>A compressed message's payload bytes, as received.</summary>
        public long WireBytes { get; set; }
    }
}
