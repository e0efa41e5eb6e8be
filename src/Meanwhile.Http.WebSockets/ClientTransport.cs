using System.Runtime.CompilerServices;
using System.Net;
using System.Net.Security;

namespace Meanwhile.Http.WebSockets;

/// <summary>A client's WebSocket over its socket (ws://), or over the TLS session on it (wss://).</summary>
/// <remarks>
/// SslStream resumes its own awaits off the loop, so its operations are awaited here plainly (the loop's context brings
/// them back to the loop) before the WebSocket, whose awaits on the transport resume inline, sees them complete.
/// </remarks>
internal sealed class ClientTransport(SocketStream socket, SslStream? tls) : WebSocketTransport
{
    public override EventLoop Loop => socket.Loop;

    public override EndPoint? RemoteEndPoint => socket.IsClosed ? null : socket.RemoteEndPoint;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        tls is null ? socket.ReadAsync(buffer, cancellationToken) : ReadTlsAsync(tls, buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        tls is null ? socket.WriteAsync(data, cancellationToken) : WriteTlsAsync(tls, data, cancellationToken);

    public override void ShutdownWrite() => socket.ShutdownWrite();

    public override async ValueTask CloseAsync()
    {
        if (tls is not null) await tls.DisposeAsync();
        await socket.DisposeAsync();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> ReadTlsAsync(SslStream tls, Memory<byte> buffer, CancellationToken cancellationToken) =>
        await tls.ReadAsync(buffer, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask WriteTlsAsync(SslStream tls, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        await tls.WriteAsync(data, cancellationToken);
}
