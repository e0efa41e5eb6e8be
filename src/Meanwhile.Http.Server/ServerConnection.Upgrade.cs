namespace Meanwhile.Http.Server;

/// <summary>The hand-over to another protocol after <c>101 Switching Protocols</c>: the upgrade is the connection's last owner.</summary>
/// <remarks>
/// The upgraded protocol runs in <see cref="RunAsync"/>'s own frame, which lives as long as the connection, idle or not:
/// no frame of its own, nor the handler's delegate or the request line kept; the protocol's last word after its handler
/// (a WebSocket's close frame) runs there too (<see cref="UpgradedConnection.HandlerEnded"/>).
/// </remarks>
internal sealed partial class ServerConnection
{
    // Set once the connection switched protocols: its last owner, told when the server stops.
    private UpgradedConnection? _upgrade;

    /// <summary>
    /// Hands the connection over once the 101 is sent: the request state (parser, buffers) goes back to the loop's pool,
    /// and the upgrade handler starts with the bytes the client sent past its head. Returns the handler's task.
    /// </summary>
    private ValueTask SwitchProtocols(RequestState state)
    {
        var handler = state.Response.SwitchedTo!;
        // Bytes past the head belong to the new protocol (rare: a client waits for the 101 before it speaks).
        byte[]? received = state.Input.Buffered > 0 ? state.Input.Unparsed.ToArray() : null;
        // The disconnect watcher is a pooled value task, awaited once: the upgraded stream takes it as a Task.
        var watcher = state.Watcher?.AsTask();
        state.Watcher = null;
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
            return handler(upgraded);
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <summary>Logs the upgrade handler's failure (or its last word's); returns true, for the caller's "failed" flag.</summary>
    private bool UpgradeFailed(Exception e)
    {
        if (_aborted) return true; // aborted (shutdown deadline): the handler's failure is the abort's consequence
        ServerMetrics.HandlerErrors.Add(1);
        ServerLog.HandlerFailed(_server.Logger, e, _upgrade!.ToString(), Remote);
        return true;
    }
}
