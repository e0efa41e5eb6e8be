using System.Buffers;
using System.Runtime.CompilerServices;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Proxy;

/// <summary>
/// The bytes of an upgraded connection (a WebSocket after the upstream's 101) copied both ways between the client and
/// a connection to the upstream of its own, until both sides have closed. The proxy reads none of them.
/// </summary>
/// <remarks>
/// <para>
/// Each direction waits for data with an empty read and rents a buffer only once bytes are there, so an idle tunnel
/// holds no buffer. A direction reads again only once its last piece was written to the other side: a slow reader
/// stalls the sender's reads (and then TCP's window stalls the sender) instead of the proxy buffering without bound.
/// </para>
/// <para>
/// The end of one side's stream is passed on as a half-close (TCP FIN), and the tunnel closes when both directions
/// have ended. A failure on either side (a reset, a write to a closed peer) or <see cref="ProxyOptions.TunnelIdleTimeout"/>
/// without a byte either way closes both at once. The tunnel is its own entry in the idle deadline queue, started when
/// it is made: should the server never hand it the client (the client left before the 101 went out), the deadline
/// still closes the upstream's socket.
/// </para>
/// <para>Loop thread only. On the server's graceful shutdown it runs on until the server's shutdown deadline, as nginx's do.</para>
/// </remarks>
internal sealed class Tunnel : DeadlineQueue.Entry
{
    private const int PieceBytes = 64 * 1024;

    private readonly Upstream _upstream;
    private readonly SocketStream _upstreamStream;
    private readonly DeadlineQueue _idle;
    private byte[]? _early;
    private UpgradedConnection? _client;
    private bool _closed;
    private Task? _closing;

    /// <summary>Takes over <paramref name="connection"/>'s socket; what the upstream sent after its 101 goes to the client first.</summary>
    public Tunnel(UpstreamConnection connection, DeadlineQueue idle)
    {
        _upstream = connection.Upstream;
        var early = connection.Input.Unparsed;
        _early = early.IsEmpty ? null : early.ToArray();
        _upstreamStream = connection.Detach();
        _idle = idle;
        idle.Start(this);
    }

    /// <summary>The <see cref="UpgradeHandler"/>: runs the tunnel once the server has sent the 101; the server closes the client's connection when it returns.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask RunAsync(UpgradedConnection client)
    {
        _client = client;
        // A tunnel is an outstanding exchange for least-outstanding balancing, as nginx's least_conn counts it.
        _upstream.Outstanding++;
        try
        {
            if (_closed) return;
            _idle.Start(this);
            if (_early is { } early)
            {
                _early = null;
                try { await client.WriteAsync(early).ConfigureAwait(false); }
                catch (Exception e) when (IsTransportFailure(e))
                {
                    Abort();
                    return;
                }
            }
            var downstream = PumpAsync(fromClient: false);
            await PumpAsync(fromClient: true).ConfigureAwait(false);
            await downstream.ConfigureAwait(false);
        }
        finally
        {
            _upstream.Outstanding--;
            Close();
            // The upstream's descriptor is released before the server closes the client's: none outlives the tunnel.
            if (_closing is { } closing) await closing;
        }
    }

    /// <summary>Copies one direction until its end of stream (then half-closes the other side) or a failure (then closes both).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PumpAsync(bool fromClient)
    {
        byte[]? piece = null;
        try
        {
            while (true)
            {
                await ReadAsync(fromClient, Memory<byte>.Empty).ConfigureAwait(false);
                piece = ArrayPool<byte>.Shared.Rent(PieceBytes);
                int n = await ReadAsync(fromClient, piece).ConfigureAwait(false);
                if (n == 0) break;
                _idle.Start(this);
                await WriteAsync(!fromClient, piece.AsMemory(0, n)).ConfigureAwait(false);
                _idle.Start(this);
                ArrayPool<byte>.Shared.Return(piece);
                piece = null;
            }
            if (fromClient) _upstreamStream.ShutdownWrite();
            else _client!.ShutdownWrite();
        }
        catch (Exception e) when (IsTransportFailure(e))
        {
            Abort();
        }
        finally
        {
            // Every read and write on the piece has completed (or failed) by now: it can go back.
            if (piece is not null) ArrayPool<byte>.Shared.Return(piece);
        }
    }

    private ValueTask<int> ReadAsync(bool fromClient, Memory<byte> into) =>
        fromClient ? _client!.ReadAsync(into) : _upstreamStream.ReadAsync(into);

    private ValueTask WriteAsync(bool toClient, ReadOnlyMemory<byte> data) =>
        toClient ? _client!.WriteAsync(data) : _upstreamStream.WriteAsync(data);

    // A reset or broken pipe (SystemCallException is an IOException), the other pump's Abort closing a stream under a
    // pending read or write, or a write after the peer's side was shut down.
    private static bool IsTransportFailure(Exception e) => e is IOException or ObjectDisposedException or InvalidOperationException;

    protected override void OnExpired() => Abort();

    /// <summary>Closes both sides now: the other direction's pending read or write ends with an error, and its pump ends too.</summary>
    private void Abort()
    {
        Close();
        if (_client is { } client) _ = client.DisposeAsync();
    }

    /// <summary>Closes the upstream's socket and stops the deadline; safe to call twice.</summary>
    private void Close()
    {
        if (_closed) return;
        _closed = true;
        Stop();
        var closing = _upstreamStream.DisposeAsync();
        if (!closing.IsCompleted) _closing = closing.AsTask();
    }
}
