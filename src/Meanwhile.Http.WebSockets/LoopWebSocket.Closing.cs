using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using System.Text;

namespace Meanwhile.Http.WebSockets;

/// <summary>The close handshake (RFC 6455 7), the failure of a connection whose peer broke the protocol, and the TCP close after either.</summary>
public sealed partial class LoopWebSocket
{
    /// <summary>
    /// Closes politely: sends a close frame with <paramref name="code"/> and <paramref name="reason"/>, waits for the
    /// peer's close frame (messages that arrive meanwhile are dropped) for at most
    /// <see cref="LoopWebSocketOptions.CloseTimeout"/>, then closes the TCP connection (a client first waits for the
    /// server to close it, as RFC 6455 7.1.1 asks).
    /// </summary>
    /// <param name="code">Why: 1000 for a normal end, 1001 going away, or an application code from 3000 to 4999.</param>
    /// <param name="reason">A short reason (at most 123 bytes of UTF-8).</param>
    /// <param name="cancellationToken">Ends the wait early; the connection is then cut.</param>
    public async ValueTask CloseAsync(WebSocketCloseCode code = WebSocketCloseCode.NormalClosure, string? reason = null, CancellationToken cancellationToken = default)
    {
        await CloseOutputAsync(code, reason, cancellationToken);
        if (_state != LoopWebSocketState.CloseSent) return;
        using var timeout = new CloseTimer(this, cancellationToken);
        try
        {
            byte[] scratch = new byte[256];
            while (_state == LoopWebSocketState.CloseSent)
            {
                var piece = await ReceiveAsync(scratch, timeout.Token);
                if (piece.Kind == WebSocketMessageKind.Close) break;
            }
        }
        catch (OperationCanceledException)
        {
            Dropped(null);
            await CloseTransportAsync();
            if (cancellationToken.IsCancellationRequested) throw;
        }
        catch (LoopWebSocketException)
        {
            // The peer broke the protocol or dropped while we closed: the connection is closed either way.
        }
    }

    /// <summary>
    /// Sends a close frame and returns: receive calls go on until the peer's close frame, which completes the handshake
    /// (then the TCP connection closes).
    /// </summary>
    /// <param name="code">Why (see <see cref="CloseAsync"/>).</param>
    /// <param name="reason">A short reason (at most 123 bytes of UTF-8).</param>
    /// <param name="cancellationToken">Ends the wait for the turn to write.</param>
    public async ValueTask CloseOutputAsync(WebSocketCloseCode code = WebSocketCloseCode.NormalClosure, string? reason = null, CancellationToken cancellationToken = default)
    {
        CheckThread();
        if (!CloseCodes.IsValidOnWire((int)code)) throw new ArgumentOutOfRangeException(nameof(code), code, "Not a close code that may be sent (1000-1003, 1007-1014, 3000-4999).");
        reason ??= "";
        if (Encoding.UTF8.GetByteCount(reason) > FrameHeader.MaxControlPayload - 2) throw new ArgumentException("A close reason is at most 123 bytes of UTF-8.", nameof(reason));
        if (_state != LoopWebSocketState.Open) return;
        await SendCloseAsync(code, reason, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendCloseAsync(WebSocketCloseCode code, string reason, CancellationToken cancellationToken)
    {
        _state = LoopWebSocketState.CloseSent;
        byte[] payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        await SendControlAsync(Opcode.Close, payload, cancellationToken);
    }

    /// <summary>The peer's close frame arrived (its code and reason are recorded): answer it unless we began, then close the TCP connection.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask OnPeerClosedAsync()
    {
        bool answer = _state == LoopWebSocketState.Open;
        _state = LoopWebSocketState.Closed;
        StopKeepAlive();
        if (answer)
        {
            // Echo the peer's code (RFC 6455 5.5.1); a close without one is answered without one.
            byte[] payload = CloseCode == WebSocketCloseCode.NoStatusReceived ? [] : new byte[2];
            if (payload.Length == 2) BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)CloseCode!.Value);
            try
            {
                await SendControlAsync(Opcode.Close, payload, default);
            }
            catch (LoopWebSocketException)
            {
                // The peer left right after its close frame: nothing to answer.
            }
        }
        await FinishAsync();
    }

    /// <summary>
    /// The TCP close after the close handshake: the server closes first; a client waits (a bounded time) for the
    /// server's FIN, so that the TIME_WAIT lands on the server... RFC 6455 7.1.1 wants it on the server, which can afford it.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FinishAsync()
    {
        if (_transportClosed) return;
        try
        {
            _transport.ShutdownWrite();
            if (!_isServer) await DrainUntilEndAsync();
        }
        catch (Exception e) when (e is ObjectDisposedException or SystemCallException or IOException or InvalidOperationException)
        {
            // gone already
        }
        await CloseTransportAsync();
    }

    /// <summary>
    /// The peer broke the protocol: records why, sends a close frame with <paramref name="code"/> (unless one was sent),
    /// half-closes, reads what the peer still sends (its close frame, the end of the stream) for at most the close
    /// timeout so that no reset destroys the close frame, closes, and throws the failure. Never returns.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FailAsync(WebSocketCloseCode code, string reason)
    {
        Refuse(code, reason);
        var failure = _failure!;
        _inFrame = false;
        _inflating = false;
        CloseCode ??= failure.CloseCode;
        CloseReason ??= failure.Message;
        bool sendClose = _state == LoopWebSocketState.Open;
        _state = LoopWebSocketState.Aborted;
        StopKeepAlive();
        if (!_transportClosed)
        {
            try
            {
                if (sendClose)
                {
                    byte[] payload = new byte[2];
                    BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)failure.CloseCode);
                    using var timeout = new CloseTimer(this, default);
                    await SendControlAsync(Opcode.Close, payload, timeout.Token);
                }
                _transport.ShutdownWrite();
                _inStart = _inEnd;
                await DrainUntilEndAsync();
            }
            catch (Exception e) when (e is ObjectDisposedException or SystemCallException or IOException or InvalidOperationException or OperationCanceledException or LoopWebSocketException)
            {
                // the peer is gone or too slow: the close below cuts it
            }
            await CloseTransportAsync();
        }
        throw failure;
    }

    /// <summary>Reads and drops what comes until the peer closes its side, for at most the close timeout.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DrainUntilEndAsync()
    {
        using var timeout = new CloseTimer(this, default);
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            while (await _transport.ReadAsync(scratch, timeout.Token) > 0)
            {
            }
        }
        catch (OperationCanceledException)
        {
            // the peer did not close in time
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>The server shuts down gracefully: say goodbye with 1001; the handler's receive sees the client's answer.</summary>
    internal async void OnServerStopping()
    {
        if (_state != LoopWebSocketState.Open) return;
        try
        {
            await SendCloseAsync(WebSocketCloseCode.GoingAway, "server shutting down", default);
        }
        catch (Exception e) when (e is LoopWebSocketException or InvalidOperationException)
        {
            // the connection is ending anyway
        }
    }

    /// <summary>
    /// The server's WebSocket handler ended (<paramref name="failed"/>: it threw): a WebSocket still open is closed with
    /// 1000 (1011), waiting a bounded time for the client's answer, then the connection is released.
    /// </summary>
    internal async ValueTask EndServerSessionAsync(bool failed)
    {
        if (_state == LoopWebSocketState.Open)
        {
            try
            {
                await CloseAsync(failed ? WebSocketCloseCode.InternalServerError : WebSocketCloseCode.NormalClosure);
            }
            catch (Exception e) when (e is LoopWebSocketException or InvalidOperationException or OperationCanceledException)
            {
                // the client is gone: nothing more to say
            }
        }
        await DisposeAsync();
    }

    /// <summary>A token that fires after the close timeout on the loop's clock, or with an outer token.</summary>
    private readonly struct CloseTimer : IDisposable
    {
        private readonly CancellationTokenSource _source;
        private readonly TimerHandle _timer;
        private readonly CancellationTokenRegistration _outer;

        public CloseTimer(LoopWebSocket socket, CancellationToken outer)
        {
            var source = new CancellationTokenSource();
            _source = source;
            _timer = socket.Loop.CallLater(socket._options.CloseTimeout, source.Cancel);
            _outer = outer.CanBeCanceled ? outer.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), source) : default;
        }

        public CancellationToken Token => _source.Token;

        public void Dispose()
        {
            _timer.Cancel();
            _outer.Dispose();
            _source.Dispose();
        }
    }
}
