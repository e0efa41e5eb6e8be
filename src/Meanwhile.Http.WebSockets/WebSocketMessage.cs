using System.Text;

namespace Meanwhile.Http.WebSockets;

/// <summary>A whole message, as <see cref="LoopWebSocket.ReceiveMessageAsync(CancellationToken)"/> returns it.</summary>
/// <param name="Kind">Text, binary, or <see cref="WebSocketMessageKind.Close"/> once the peer closed (then <paramref name="Data"/> is empty).</param>
/// <param name="Data">The message's bytes (UTF-8 for text, already checked); the message owns them.</param>
public readonly record struct WebSocketMessage(WebSocketMessageKind Kind, Memory<byte> Data)
{
    /// <summary>True when the peer closed rather than sent a message.</summary>
    public bool IsClose => Kind == WebSocketMessageKind.Close;

    /// <summary>The data decoded as UTF-8 (a text message's text).</summary>
    public string Text => Encoding.UTF8.GetString(Data.Span);
}
