using System.Net;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets;

/// <summary>A server's WebSocket over the connection the server handed over after the 101 (plain or TLS: the server's business).</summary>
internal sealed class UpgradedTransport(UpgradedConnection connection) : WebSocketTransport
{
    public override EventLoop Loop => connection.Loop;

    public override EndPoint? RemoteEndPoint => connection.RemoteEndPoint;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => connection.ReadAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => connection.WriteAsync(data, cancellationToken);

    public override void ShutdownWrite() => connection.ShutdownWrite();

    public override ValueTask CloseAsync() => connection.DisposeAsync();
}
