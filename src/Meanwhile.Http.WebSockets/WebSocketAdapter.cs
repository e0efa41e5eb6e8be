using System.Net.WebSockets;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// A <see cref="LoopWebSocket"/> as .NET's abstract <see cref="WebSocket"/>, so code written against it (ClientWebSocket
/// consumers, libraries that take a WebSocket) runs on the loop. Calls made on the loop's thread go straight through;
/// calls from other threads are carried to the loop and their results back.
/// </summary>
internal sealed class WebSocketAdapter(LoopWebSocket socket) : WebSocket
{
    public override WebSocketCloseStatus? CloseStatus => socket.State is LoopWebSocketState.Closed or LoopWebSocketState.Aborted && socket.CloseCode is { } code
        ? (WebSocketCloseStatus)(int)code
        : null;

    public override string? CloseStatusDescription => socket.CloseReason;

    public override WebSocketState State => socket.State switch
    {
        LoopWebSocketState.Open => WebSocketState.Open,
        LoopWebSocketState.CloseSent => WebSocketState.CloseSent,
        LoopWebSocketState.Closed => WebSocketState.Closed,
        _ => WebSocketState.Aborted,
    };

    public override string? SubProtocol => socket.SubProtocol;

    public override void Abort() => OnLoop(async () => { await socket.DisposeAsync(); return 0; });

    public override void Dispose() => Abort();

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        OnLoop(async () => { await socket.CloseAsync((WebSocketCloseCode)closeStatus, statusDescription, cancellationToken); return 0; });

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        OnLoop(async () => { await socket.CloseOutputAsync((WebSocketCloseCode)closeStatus, statusDescription, cancellationToken); return 0; });

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken);
        return result.MessageType == WebSocketMessageType.Close
            ? new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, CloseStatus, CloseStatusDescription)
            : new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
    }

    public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        new(OnLoop(async () =>
        {
            var piece = await socket.ReceiveAsync(buffer, cancellationToken);
            var type = piece.Kind switch
            {
                WebSocketMessageKind.Text => WebSocketMessageType.Text,
                WebSocketMessageKind.Binary => WebSocketMessageType.Binary,
                _ => WebSocketMessageType.Close,
            };
            return new ValueWebSocketReceiveResult(piece.Count, type, piece.EndOfMessage);
        }));

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (messageType == WebSocketMessageType.Close) throw new ArgumentException("Close with CloseAsync or CloseOutputAsync.", nameof(messageType));
        var kind = messageType == WebSocketMessageType.Text ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary;
        return new ValueTask(OnLoop(async () => { await socket.SendAsync(buffer, kind, endOfMessage, cancellationToken); return 0; }));
    }

    /// <summary>Runs <paramref name="operation"/> on the socket's loop, mapping its failures to <see cref="WebSocketException"/> as .NET's WebSocket reports them.</summary>
    private Task<T> OnLoop<T>(Func<Task<T>> operation)
    {
        if (socket.Loop.IsLoopThread) return Mapped(operation);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        socket.Loop.Post(async () =>
        {
            try { done.TrySetResult(await Mapped(operation)); }
            catch (OperationCanceledException e) { done.TrySetCanceled(e.CancellationToken); }
            catch (Exception e) { done.TrySetException(e); }
        });
        return done.Task;
    }

    private static async Task<T> Mapped<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (LoopWebSocketException e)
        {
            var error = e.CloseCode == WebSocketCloseCode.AbnormalClosure ? WebSocketError.ConnectionClosedPrematurely : WebSocketError.Faulted;
            throw new WebSocketException(error, e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            throw new WebSocketException(WebSocketError.InvalidState, e.Message, e);
        }
    }
}
