using System.Net;
using System.Runtime.CompilerServices;

namespace Meanwhile.Http.Server;

/// <summary>
/// A server connection handed over to another protocol after <c>101 Switching Protocols</c> (a WebSocket, say): its
/// byte stream, whatever carries it, with the bytes the client sent past its request head served first.
/// </summary>
/// <remarks>
/// <para>
/// The upgrade is the connection's last owner: the server's read-and-dispatch loop has stopped and given back its request
/// state and buffers, the HTTP deadlines are off, and the connection closes when the <see cref="UpgradeHandler"/>
/// returns. Loop thread only; one read and one write at a time. An empty read waits for data without consuming any, so
/// a protocol can wait with no buffer.
/// </para>
/// <para>
/// On graceful shutdown, <see cref="ServerStopping"/> is called so the protocol can say goodbye (a WebSocket sends
/// 1001); connections still open at the shutdown deadline are closed.
/// </para>
/// </remarks>
public sealed class UpgradedConnection : IAsyncDisposable
{
    private readonly ServerConnection _connection;
    private byte[]? _received;
    private int _receivedStart;
    private Task? _watcher;

    internal UpgradedConnection(ServerConnection connection, byte[]? received, Task? watcher)
    {
        _connection = connection;
        _received = received;
        _watcher = watcher;
    }

    /// <summary>The loop the connection belongs to.</summary>
    public EventLoop Loop => _connection.Stream.Loop;

    /// <summary>The client's address.</summary>
    public EndPoint? RemoteEndPoint => _connection.Socket.RemoteEndPoint;

    /// <summary>The server's address for this connection.</summary>
    public EndPoint? LocalEndPoint => _connection.Socket.LocalEndPoint;

    /// <summary>Called (on the loop) when the server begins a graceful shutdown; the argument is <see cref="State"/>.</summary>
    public Action<object?>? ServerStopping { get; set; }

    /// <summary>
    /// Called (on the loop) once the <see cref="UpgradeHandler"/> has returned or thrown (the second argument: whether it
    /// threw), before the server closes the connection: the protocol's last word (a WebSocket's close frame). The first
    /// argument is <see cref="State"/>. Running it here spares the protocol an async frame of its own around the handler,
    /// which an idle connection would hold for its whole life.
    /// </summary>
    public Func<object?, bool, ValueTask>? HandlerEnded { get; set; }

    /// <summary>What the protocol keeps here for <see cref="ServerStopping"/> and <see cref="HandlerEnded"/>.</summary>
    public object? State { get; set; }

    /// <summary>Reads at least one byte into <paramref name="buffer"/>, or 0 at the end of the stream; an empty buffer waits for data.</summary>
    /// <param name="buffer">Where the bytes go.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_received is { } received)
        {
            if (buffer.IsEmpty) return ValueTask.FromResult(0);
            int n = Math.Min(buffer.Length, received.Length - _receivedStart);
            received.AsSpan(_receivedStart, n).CopyTo(buffer.Span);
            _receivedStart += n;
            if (_receivedStart == received.Length) _received = null;
            return ValueTask.FromResult(n);
        }
        if (_watcher is { IsCompleted: false } watcher) return ReadAfterWatcherAsync(watcher, buffer, cancellationToken);
        return _connection.Stream.ReadAsync(buffer, cancellationToken);
    }

    // The server watched the socket for the client leaving while the handler ran: that wait (for data, with no buffer)
    // is still pending, and it is the only reader until it ends.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadAfterWatcherAsync(Task watcher, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        await watcher.WaitAsync(cancellationToken);
        _watcher = null;
        return await _connection.Stream.ReadAsync(buffer, cancellationToken);
    }

    /// <summary>Writes every byte of <paramref name="data"/>; waits while the client is slow to read.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => _connection.Stream.WriteAsync(data, cancellationToken);

    /// <summary>Half-closes: the client reads the end of the stream after what was written (TCP FIN).</summary>
    public void ShutdownWrite() => _connection.Stream.ShutdownWrite();

    /// <summary>Closes the connection now; pending reads and writes end with <see cref="ObjectDisposedException"/>.</summary>
    public ValueTask DisposeAsync() => _connection.Stream.DisposeAsync();

    internal void OnServerStopping() => ServerStopping?.Invoke(State);

    internal ValueTask OnHandlerEndedAsync(bool failed) => HandlerEnded?.Invoke(State, failed) ?? ValueTask.CompletedTask;

    /// <inheritdoc />
    public override string ToString() => $"upgraded {_connection.Stream.Description}";
}
