using System.Net;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// The byte stream a <see cref="LoopWebSocket"/> runs over, whatever carries it: a server's upgraded connection (plain
/// now, TLS once the server speaks it), a client's socket, or a client's TLS session over its socket. One read and one
/// write at a time; an empty read waits for data without taking any (the idle connection holds no buffer).
/// </summary>
internal abstract class WebSocketTransport
{
    public abstract EventLoop Loop { get; }

    /// <summary>The peer's address, for logs and the handler.</summary>
    public abstract EndPoint? RemoteEndPoint { get; }

    public abstract ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Sends FIN: the peer reads the end of the stream after what was written.</summary>
    public abstract void ShutdownWrite();

    /// <summary>Closes the connection; pending reads and writes end.</summary>
    public abstract ValueTask CloseAsync();
}
