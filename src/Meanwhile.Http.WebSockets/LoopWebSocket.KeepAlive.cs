namespace Meanwhile.Http.WebSockets;

/// <summary>The keep-alive ping and the idle timeout, as entries of the loop's shared deadline queues (<see cref="KeepAliveQueues"/>).</summary>
public sealed partial class LoopWebSocket
{
    private KeepAliveEntry? _keepAlive; // null when neither timer is set: nothing per connection

    private void StartKeepAlive()
    {
        if (_options.QueuesFor(Loop) is not { } queues) return;
        _keepAlive = new KeepAliveEntry(this, queues);
        _keepAlive.Heard();
    }

    private void StopKeepAlive() => _keepAlive?.Stop();

    /// <summary>A frame arrived: the peer is alive, the countdown starts again.</summary>
    private void HeardFromPeer() => _keepAlive?.Heard();

    /// <summary>The keep-alive interval passed in silence: ping (a live peer's pong resets the countdown).</summary>
    private async void PingForKeepAlive()
    {
        try
        {
            if (_state == LoopWebSocketState.Open) await SendControlAsync(Opcode.Ping, default, default);
        }
        catch (Exception e) when (e is LoopWebSocketException or InvalidOperationException)
        {
            // the connection is ending; its receive reports why
        }
    }

    /// <summary>
    /// Nothing was heard for the idle timeout: a close frame with 1001 goes out if it can at once, and the connection is
    /// cut; a pending receive ends with that failure.
    /// </summary>
    private async void TimeOutIdle()
    {
        var failure = new LoopWebSocketException(WebSocketCloseCode.GoingAway, "Nothing was received within the idle timeout; closed with 1001.");
        _failure ??= failure;
        CloseCode ??= WebSocketCloseCode.GoingAway;
        CloseReason ??= "idle timeout";
        bool sendClose = _state == LoopWebSocketState.Open && !_writing;
        _state = LoopWebSocketState.Aborted;
        try
        {
            if (sendClose)
            {
                var pending = SendControlAsync(Opcode.Close, new byte[] { 0x03, 0xE9 }, default); // 1001
                if (pending.IsCompleted) await pending; // a peer too slow to take 4 bytes is not waited for
                else _ = pending.AsTask();
            }
            _transport.ShutdownWrite();
        }
        catch (Exception e) when (e is LoopWebSocketException or InvalidOperationException or ObjectDisposedException or SystemCallException)
        {
            // cut below anyway
        }
        await CloseTransportAsync();
    }

    /// <summary>One connection's place in the keep-alive queues.</summary>
    private sealed class KeepAliveEntry(LoopWebSocket socket, KeepAliveQueues queues) : DeadlineQueue.Entry
    {
        private bool _pinged;

        public void Heard()
        {
            _pinged = false;
            (queues.Ping ?? queues.Idle)!.Start(this);
        }

        protected override void OnExpired()
        {
            if (queues.Ping is null || (_pinged && queues.ClosesAfterPong))
            {
                socket.TimeOutIdle();
                return;
            }
            if (_pinged)
            {
                // No idle timeout: keep pinging every interval (a dead peer shows as a failed write).
                queues.Ping.Start(this);
                _pinged = false;
            }
            else
            {
                _pinged = true;
                queues.Pong!.Start(this);
            }
            socket.PingForKeepAlive();
        }
    }
}
