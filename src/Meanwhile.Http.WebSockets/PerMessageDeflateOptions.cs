using System.IO.Compression;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// permessage-deflate (RFC 7692) for a <see cref="LoopWebSocket"/> (<see cref="LoopWebSocketOptions.Compression"/>): a
/// client offers it, a server accepts a client's offer; then messages may travel compressed with DEFLATE.
/// </summary>
/// <remarks>
/// <para>
/// Compression runs on .NET's zlib (<see cref="DeflateStream"/>), whose window is always 32 KiB (15 bits): a server
/// declines an offer that asks it for a smaller one (<c>server_max_window_bits</c> below 15), and a client never offers
/// <c>client_max_window_bits</c>. Receiving, any window a peer chose is understood.
/// </para>
/// <para>
/// Memory per connection is bounded: one compressor (zlib's deflate state, about 300 KB of native memory) while a
/// message is being sent, kept between messages only with context takeover on the sending side; one decompressor (about
/// 50 KB: zlib's state and 32 KiB window, and an 8 KiB input buffer) while a compressed message is being received, kept
/// between messages only with context takeover on the receiving side. A compressed message counts against <see cref="LoopWebSocketOptions.MaxMessageBytes"/> as it
/// inflates, and is refused with 1009 as soon as it goes over.
/// </para>
/// </remarks>
public sealed record PerMessageDeflateOptions
{
    /// <summary>
    /// The defaults: the server keeps no compression context between the messages it sends (so an idle connection holds
    /// no compressor), the client does; messages under 1 KiB go uncompressed; the fastest compression level.
    /// </summary>
    public static PerMessageDeflateOptions Default { get; } = new();

    /// <summary>
    /// Whether the server's compressor keeps its context (its LZ77 window) from one message to the next: better
    /// compression of similar messages, at the price of a compressor held per connection. False (default) sends or
    /// accepts <c>server_no_context_takeover</c>. A client that asks for it is always obeyed.
    /// </summary>
    public bool ServerContextTakeover { get; init; }

    /// <summary>
    /// Whether the client's compressor keeps its context from one message to the next. True (default); false sends
    /// <c>client_no_context_takeover</c> (so the server may drop its decompressor between messages).
    /// </summary>
    public bool ClientContextTakeover { get; init; } = true;

    /// <summary>
    /// Messages whose first piece is smaller than this go uncompressed: deflate gains little on a short message, and
    /// a broadcast of small messages would pay a compressor per connection for each. Default 1 KiB (as Node's ws).
    /// </summary>
    public int ThresholdBytes { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Zero or more."); } = 1024;

    /// <summary>The compression level of the messages this side sends. Default <see cref="CompressionLevel.Fastest"/>.</summary>
    public CompressionLevel Level { get; init; } = CompressionLevel.Fastest;
}
