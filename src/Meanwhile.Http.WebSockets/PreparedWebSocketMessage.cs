using System.IO.Compression;
using System.Text;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// A whole message encoded once, to be sent to many connections (a broadcast) with
/// <see cref="LoopWebSocket.SendAsync(PreparedWebSocketMessage, CancellationToken)"/>: a server writes the same frame
/// bytes to each of them instead of building a frame per connection.
/// </summary>
/// <remarks>
/// <para>
/// A server connection writes the prepared frame as it is. With permessage-deflate, the message is compressed once for
/// all the connections whose compressor starts afresh with each message (<c>server_no_context_takeover</c>, the
/// default of <see cref="PerMessageDeflateOptions"/>); a connection that keeps its compression context from message
/// to message compresses it itself, since its peer's decompressor expects the frames of that one context. A client
/// masks each frame with a new key, so on a client the message is framed per send (its bytes are still shared).
/// </para>
/// <para>Immutable and safe to share between loops; the bytes are copied when it is made.</para>
/// </remarks>
public sealed class PreparedWebSocketMessage
{
    private readonly byte[] _frame; // the unmasked, uncompressed frame: header and payload
    private readonly int _headerLength;
    private CompressedFrame? _compressed; // made on the first send that needs it

    /// <summary>Prepares <paramref name="data"/> as one message of <paramref name="kind"/>.</summary>
    /// <param name="data">The bytes (UTF-8 for text: they are not checked); copied.</param>
    /// <param name="kind">Text or binary.</param>
    public PreparedWebSocketMessage(ReadOnlySpan<byte> data, WebSocketMessageKind kind)
    {
        if (kind is not (WebSocketMessageKind.Text or WebSocketMessageKind.Binary)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "A message is text or binary.");
        Kind = kind;
        _frame = BuildFrame(data, kind, compressed: false, out _headerLength);
    }

    /// <summary>Prepares <paramref name="text"/> as one text message.</summary>
    /// <param name="text">The text.</param>
    public PreparedWebSocketMessage(string text)
        : this(Encoding.UTF8.GetBytes(text ?? throw new ArgumentNullException(nameof(text))), WebSocketMessageKind.Text)
    {
    }

    /// <summary>Text or binary.</summary>
    public WebSocketMessageKind Kind { get; }

    /// <summary>The message's bytes.</summary>
    public ReadOnlyMemory<byte> Data => _frame.AsMemory(_headerLength);

    /// <summary>The whole frame a server sends uncompressed.</summary>
    internal ReadOnlyMemory<byte> Frame => _frame;

    /// <summary>
    /// The whole frame a server sends compressed at <paramref name="level"/> from a fresh compressor (RSV1 set, the
    /// flush's tail removed). Made once per level in use; a race between loops makes it twice, harmlessly.
    /// </summary>
    internal ReadOnlyMemory<byte> CompressedFrameAt(CompressionLevel level)
    {
        if (_compressed is { } made && made.Level == level) return made.Bytes;
        var compressed = new CompressedFrame(level, Compress(Data.Span, Kind, level));
        _compressed = compressed;
        return compressed.Bytes;
    }

    private static byte[] Compress(ReadOnlySpan<byte> data, WebSocketMessageKind kind, CompressionLevel level)
    {
        using var deflater = new MessageDeflater(new DeflateSettings(ResetSendContext: true, ResetReceiveContext: true, new PerMessageDeflateOptions { Level = level }));
        var frame = BuildFrame(deflater.Compress(data, endOfMessage: true).Span, kind, compressed: true, out _);
        deflater.ReleaseOutput();
        return frame;
    }

    /// <summary>One unmasked, final frame of <paramref name="payload"/>: its header, then the bytes.</summary>
    private static byte[] BuildFrame(ReadOnlySpan<byte> payload, WebSocketMessageKind kind, bool compressed, out int headerLength)
    {
        Span<byte> header = stackalloc byte[FrameHeader.MaxLength];
        headerLength = FrameHeader.Write(header, (Opcode)kind, fin: true, compressed, payload.Length, maskKey: null);
        var frame = new byte[headerLength + payload.Length];
        header[..headerLength].CopyTo(frame);
        payload.CopyTo(frame.AsSpan(headerLength));
        return frame;
    }

    private sealed record CompressedFrame(CompressionLevel Level, byte[] Bytes);
}
