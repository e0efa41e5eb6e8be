using System.Buffers;
using System.Net;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// One WebSocket connection (RFC 6455) on an event loop: whole messages or pieces of them in both directions, pings
/// answered by itself, the close handshake, and the RFC's close codes for a peer that breaks the protocol.
/// </summary>
/// <remarks>
/// <para>
/// A server gets one in its WebSocket handler (<see cref="WebSocketRouting.MapWebSocket"/>,
/// <see cref="WebSocketAcceptance.AcceptWebSocket"/>); a client opens one with <see cref="ConnectAsync(Uri, LoopWebSocketOptions?, CancellationToken)"/>.
/// Use it from its loop's thread. One receive at a time; sends may come from several tasks and leave one frame at a
/// time, in order, each waiting while the peer is slow to read (backpressure).
/// </para>
/// <para>
/// Control frames are handled inside receive calls, as in .NET's own WebSocket: a ping is answered while a receive
/// runs, and a connection whose application stops receiving neither answers pings nor sees the peer's close.
/// While nothing arrives, a receive waits without a read buffer: an idle connection holds none.
/// </para>
/// <para>
/// A peer that breaks the protocol gets a close frame with the RFC's code (1002 protocol error, 1007 invalid UTF-8,
/// 1009 a message over <see cref="LoopWebSocketOptions.MaxMessageBytes"/>), then the TCP connection is closed, and the
/// receive call throws <see cref="LoopWebSocketException"/> with that code. What was received before stays received.
/// </para>
/// </remarks>
public sealed partial class LoopWebSocket : IAsyncDisposable
{
    private readonly WebSocketTransport _transport;
    private readonly LoopWebSocketOptions _options;
    private readonly bool _isServer;
    private LoopWebSocketState _state;
    private LoopWebSocketException? _failure;
    private bool _transportClosed;
    private WebSocketAdapter? _adapter;

    internal LoopWebSocket(WebSocketTransport transport, bool isServer, string? subProtocol, LoopWebSocketOptions options, ReadOnlySpan<byte> received,
        DeflateSettings? deflate = null, string? extensions = null)
    {
        _transport = transport;
        _isServer = isServer;
        _options = options;
        if (deflate is not null) _compression = new CompressionState(deflate);
        SubProtocol = subProtocol;
        Extensions = extensions;
        if (!received.IsEmpty)
        {
            // Bytes that came with the handshake (a server may send its first message at once): they are the start of the frames.
            _in = ArrayPool<byte>.Shared.Rent(Math.Max(options.ReceiveBufferBytes, received.Length));
            received.CopyTo(_in);
            _inEnd = received.Length;
        }
        StartKeepAlive();
    }

    /// <summary>The loop this WebSocket belongs to.</summary>
    public EventLoop Loop => _transport.Loop;

    /// <summary>Where it is in its life.</summary>
    public LoopWebSocketState State => _state;

    /// <summary>The subprotocol both sides agreed on, or null.</summary>
    public string? SubProtocol { get; }

    /// <summary>
    /// The extensions both sides agreed on, as the server answered them (<c>permessage-deflate</c> and its parameters),
    /// or null when none was.
    /// </summary>
    public string? Extensions { get; }

    /// <summary>True on the server's side of the connection.</summary>
    public bool IsServer => _isServer;

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint => _transport.RemoteEndPoint;

    /// <summary>The code of the peer's close frame (<see cref="WebSocketCloseCode.NoStatusReceived"/> when it had none), or of the failure; null while open.</summary>
    public WebSocketCloseCode? CloseCode { get; private set; }

    /// <summary>The reason of the peer's close frame (empty when it had none), or of the failure; null while open.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>The options it runs with.</summary>
    public LoopWebSocketOptions Options => _options;

    /// <summary>
    /// This connection as .NET's abstract <see cref="System.Net.WebSockets.WebSocket"/>, so code written against it runs on
    /// Meanwhile (the same object each time). Calls from other threads are carried to the loop.
    /// </summary>
    public System.Net.WebSockets.WebSocket AsWebSocket() => _adapter ??= new WebSocketAdapter(this);

    /// <summary>
    /// Ends the connection at once, without a close handshake if it was not complete (the peer sees the TCP connection
    /// close): for a WebSocket no longer wanted. Use <see cref="CloseAsync"/> to close politely first. Safe to call twice.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_state is LoopWebSocketState.Open or LoopWebSocketState.CloseSent)
        {
            _state = LoopWebSocketState.Aborted;
            CloseCode ??= WebSocketCloseCode.AbnormalClosure;
            CloseReason ??= "disposed";
        }
        StopKeepAlive();
        await CloseTransportAsync();
    }

    private async ValueTask CloseTransportAsync()
    {
        if (_transportClosed) return;
        _transportClosed = true;
        StopKeepAlive();
        await _transport.CloseAsync();
        if (!_receiving) ReleaseInput();
        ReleaseCompression();
    }

    private void CheckThread()
    {
        if (!Loop.IsLoopThread) throw new InvalidOperationException("A LoopWebSocket is used from the thread of its loop.");
    }

    /// <inheritdoc />
    public override string ToString() => $"WebSocket {(_isServer ? "server" : "client")} {RemoteEndPoint} {_state}";
}
