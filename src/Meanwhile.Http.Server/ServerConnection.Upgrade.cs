using System.Runtime.CompilerServices;

namespace Meanwhile.Http.Server;

/// <summary>The hand-over to another protocol after <c>101 Switching Protocols</c>: the upgrade is the connection's last owner.</summary>
internal sealed partial class ServerConnection
{
    // Set once the connection switched protocols: its last owner, told when the server stops.
    private UpgradedConnection? _upgrade;

    /// <summary>
    /// Sends the 101 response, gives the request state (parser, buffers) back to the loop's pool, and runs
    /// <paramref name="handler"/> on the connection with the bytes the client sent past its head; the connection closes
    /// when it returns.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunUpgradedAsync(RequestState state, UpgradeHandler handler)
    {
        if (state.Output.Pending > 0) await state.Output.FlushAsync().ConfigureAwait(false);
        if (_aborted || _peerClosed) return;
        // Bytes past the head belong to the new protocol (rare: a client waits for the 101 before it speaks).
        byte[]? received = state.Input.Buffered > 0 ? state.Input.Unparsed.ToArray() : null;
        // The disconnect watcher is a pooled value task, awaited once: the upgraded stream takes it as a Task.
        var watcher = state.Watcher?.AsTask();
        state.Watcher = null;
        string requestLine = state.Request.ToString();
        var upgraded = new UpgradedConnection(this, received, watcher);
        _upgrade = upgraded;
        state.Response.Discard(); // drops its reference to the upgrade handler
        state.Input.Release();
        state.Input.Parse(); // the bodiless request ends here, leaving the parser idle for the pool
        ReturnRequestState();
        _server.Timeouts.Upgraded(this);
        Mark(ServerMarks.Upgraded);
        try
        {
            await handler(upgraded); // user code: awaited plainly
        }
        catch (Exception e) when (!_aborted)
        {
            ServerMetrics.HandlerErrors.Add(1);
            ServerLog.HandlerFailed(_server.Logger, e, requestLine, Remote);
        }
        catch (Exception)
        {
            // aborted (shutdown deadline): the handler's failure is the abort's consequence
        }
    }
}
