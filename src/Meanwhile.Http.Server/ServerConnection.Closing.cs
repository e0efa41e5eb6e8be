using System.Buffers;
using System.Runtime.CompilerServices;

namespace Meanwhile.Http.Server;

/// <summary>How a connection ends: a refusal's lingering close, an abort (a timeout, the shutdown, a peer gone), the close itself.</summary>
internal sealed partial class ServerConnection
{
    /// <summary>
    /// Half-closes, then discards what the client still sends until it closes too or the linger time passes: closing
    /// a socket with unread data makes the kernel send a reset, which can destroy the response before it is read.
    /// </summary>
    /// <remarks>
    /// Under TLS the discarding reads the socket itself: after our <c>close_notify</c> nothing the client sends is
    /// decrypted, and a client that resets (many do, once they have the response) then costs one exception, not one per
    /// SslStream layer. A reset ends the linger quietly: the client is gone, which is all the linger waits for.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask LingerAsync()
    {
        _server.Timeouts.Lingering(this);
        _state?.Input.Release();
        _stream.ShutdownWrite();
        DataStream input = _stream is TlsStream tls ? tls.Socket : _stream;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            long budget = 1024 * 1024;
            while (budget > 0)
            {
                int n = await input.ReadAsync(scratch).ConfigureAwait(false);
                if (n == 0) break;
                budget -= n;
            }
        }
        catch (ConnectionResetException)
        {
            // the client closed abortively after reading (or instead of reading) the response: done
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Whether the client may still be sending when the connection closes after a response, so that closing at once
    /// could make the kernel reset the connection under the response (nginx's <c>lingering_close on</c>): the client
    /// expected the connection to stay open (it may have pipelined more), part of its body is unread, or bytes past the
    /// request are buffered. A client that asked to close and was read to the end gets a plain close: no half-close,
    /// no wait for its FIN or reset, and under TLS no read that a reset turns into an exception.
    /// </summary>
    private static bool ClientMaySendMore(RequestState state)
    {
        var head = state.Parser.Head;
        return head.KeepAlive || (head.HasBody && !state.Body.IsComplete) || state.Input.Buffered > 0;
    }

    /// <summary>The client reset or closed the connection under a read or write: it is gone, and the handler's token fires.</summary>
    public void PeerFailed(string reason)
    {
        _peerClosed = true;
        Abort(reason);
    }

    /// <summary>Ends the connection now (timeout, shutdown deadline, broken response): the handler's token fires and pending I/O ends.</summary>
    /// <param name="reason">Why, for the log.</param>
    public void Abort(string reason)
    {
        if (_aborted) return;
        // Remote formats the address: only for a logger that will write it (a stopping server aborts every connection).
        if (_server.Logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug)) ServerLog.Aborted(_server.Logger, Remote, reason);
        _aborted = true;
        Stop();
        _state?.CancelAbortToken();
        try
        {
            // FIN before the close: a socket closed while a read is pending may be closed abortively (the portable
            // reactor's .NET sockets send a reset), and a reset can destroy what the client has not read yet.
            if (!_stream.IsClosed && !_peerClosed) _stream.ShutdownWrite();
        }
        catch (Exception e) when (e is SystemCallException or ObjectDisposedException or InvalidOperationException)
        {
            // the peer is gone already: nothing to tell it
        }
        _stream.Dispose(); // pending reads and writes end with ObjectDisposedException
    }

    /// <summary>The request head did not arrive in time: 408 goes straight out (nothing else is being written), then the close.</summary>
    public void TimeOutHead()
    {
        var output = _state!.Output;
        output.WriteErrorResponse(408);
        output.SendNow();
        ServerMetrics.Timeouts.Add(1);
        Abort("request head timeout");
    }

    /// <summary>On graceful shutdown: a connection between requests (or still in its TLS handshake) closes now; one with a request in progress finishes it.</summary>
    public void OnShutdown()
    {
        if (Phase is ConnectionPhase.Idle or ConnectionPhase.Handshake) Abort("server shutting down");
        else if (Phase == ConnectionPhase.Upgraded) _upgrade?.OnServerStopping();
    }


    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CloseAsync()
    {
        try
        {
            if (_state?.Watcher is { } watcher)
            {
                _state.Watcher = null;
                if (!watcher.IsCompleted) _stream.Dispose();
                await watcher.ConfigureAwait(false);
            }
            _server.Timeouts.Closed(this);
            if (_state is { } state)
            {
                state.Response.Discard();
                if (state.Parser.IsIdle) ReturnRequestState();
                else
                {
                    // Closed inside a request: this state is not reused.
                    state.Parser.Dispose();
                    state.Detach();
                    state.ReleaseBuffers();
                    _state = null;
                }
            }
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ServerLog.ConnectionFailed(_server.Logger, e, Remote);
        }
        finally
        {
            // Whatever happened, the server must stop counting this connection, or a graceful shutdown waits forever.
            _server.Remove(this);
        }
    }
}
