using System.Net;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// One accepted handshake, waiting for the server to send the 101; then the transport of the server's WebSocket over
/// the connection the server handed over (plain or TLS: the server's business).
/// </summary>
/// <remarks>
/// The WebSocket handler is started without an async frame of its own: the server awaits it, and the closing after it
/// (1000, or 1011 if it threw) runs in the server's frame through <see cref="UpgradedConnection.HandlerEnded"/>. An
/// idle connection holds one object here, not a session, its async box and a transport.
/// </remarks>
internal sealed class ServerSession(WebSocketHandler handler, string? subProtocol, LoopWebSocketOptions options, DeflateSettings? deflate, string? extensions)
    : WebSocketTransport
{
    private static readonly Action<object?> ServerStoppingCallback = static socket => ((LoopWebSocket)socket!).OnServerStopping();
    private static readonly Func<object?, bool, ValueTask> HandlerEndedCallback = static (socket, failed) => ((LoopWebSocket)socket!).EndServerSessionAsync(failed);

    private UpgradedConnection? _connection;

    private UpgradedConnection Connection => _connection ?? throw new InvalidOperationException("The WebSocket's connection is not handed over yet.");

    /// <summary>The <see cref="UpgradeHandler"/>: runs the WebSocket handler on the connection after the 101.</summary>
    public ValueTask StartAsync(UpgradedConnection connection)
    {
        _connection = connection;
        var socket = new LoopWebSocket(this, true, subProtocol, options, default, deflate, extensions);
        connection.State = socket;
        connection.ServerStopping = ServerStoppingCallback;
        connection.HandlerEnded = HandlerEndedCallback;
        return handler(socket);
    }

    public override EventLoop Loop => Connection.Loop;

    public override EndPoint? RemoteEndPoint => Connection.RemoteEndPoint;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => Connection.ReadAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => Connection.WriteAsync(data, cancellationToken);

    public override void ShutdownWrite() => Connection.ShutdownWrite();

    public override ValueTask CloseAsync() => Connection.DisposeAsync();
}
