using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// The server's side of the opening handshake (RFC 6455 4.2), for any handler: check the request, choose a subprotocol,
/// agree permessage-deflate when offered and wanted, answer 101 and hand the connection to a <see cref="WebSocketHandler"/>; or refuse with 400 (a required header
/// missing or malformed) or 426 with <c>Sec-WebSocket-Version: 13</c> (another protocol version).
/// </summary>
public static class WebSocketAcceptance
{
    /// <summary>Whether <paramref name="request"/> asks to open a WebSocket (a GET with <c>Upgrade: websocket</c>); it may still be malformed.</summary>
    /// <param name="request">The request.</param>
    public static bool IsWebSocketRequest(this ServerRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.MethodIs("GET"u8) && Handshake.AnyListContains(request.Headers, "Upgrade"u8, "websocket"u8);
    }

    /// <summary>
    /// Accepts <paramref name="request"/>'s WebSocket handshake: the response becomes the 101 and, once the calling
    /// handler returns, <paramref name="handler"/> runs the connection. A request that is not a valid handshake gets its
    /// refusal instead (400, or 426 for another version), with a one-line reason as its body.
    /// </summary>
    /// <param name="response">The response to the handshake.</param>
    /// <param name="request">The handshake request.</param>
    /// <param name="handler">What runs the WebSocket.</param>
    /// <param name="options">Limits, keep-alive, subprotocols; null for <see cref="LoopWebSocketOptions.Default"/>.</param>
    /// <returns>True when accepted; false when refused (the response says why).</returns>
    public static bool AcceptWebSocket(this ServerResponse response, ServerRequest request, WebSocketHandler handler, LoopWebSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(handler);
        options ??= LoopWebSocketOptions.Default;
        if (Refusal(request) is { } refusal)
        {
            response.StatusCode = refusal.Status;
            if (refusal.Status == 426) response.AddHeader("Sec-WebSocket-Version"u8, "13"u8);
            response.AddHeader("Content-Type"u8, "text/plain; charset=utf-8"u8);
            response.Write(Encoding.UTF8.GetBytes(refusal.Reason + "\n"));
            return false;
        }
        request.TryGetHeader("Sec-WebSocket-Key"u8, out var key);
        response.AddHeader("Sec-WebSocket-Accept", Handshake.AcceptFor(key));
        string? subProtocol = ChooseSubProtocol(request, options);
        if (subProtocol is not null) response.AddHeader("Sec-WebSocket-Protocol", subProtocol);
        var deflate = options.Compression is { } compression ? DeflateNegotiation.Accept(request.Headers, compression) : null;
        if (deflate is { } agreed) response.AddHeader("Sec-WebSocket-Extensions", agreed.Answer);
        var session = new ServerSession(handler, subProtocol, options, deflate?.Settings, deflate?.Answer);
        response.Upgrade("websocket", session.StartAsync);
        return true;
    }

    /// <summary>The server's first subprotocol that the client offered; never one it did not offer.</summary>
    private static string? ChooseSubProtocol(ServerRequest request, LoopWebSocketOptions options)
    {
        if (options.SubProtocols.Count == 0) return null;
        var offered = Handshake.ListItems(request.Headers, "Sec-WebSocket-Protocol"u8);
        foreach (var supported in options.SubProtocols)
        {
            if (offered.Contains(supported, StringComparer.Ordinal)) return supported; // subprotocol names are case-sensitive
        }
        return null;
    }

    private static (int Status, string Reason)? Refusal(ServerRequest request)
    {
        if (!request.MethodIs("GET"u8)) return (400, "A WebSocket handshake is a GET request.");
        if (request.Version != HttpProtocolVersion.Http11) return (400, "A WebSocket handshake needs HTTP/1.1.");
        if (request.HasBody) return (400, "A WebSocket handshake has no body.");
        var fields = request.Headers;
        if (!Handshake.AnyListContains(fields, "Upgrade"u8, "websocket"u8)) return (400, "The request lacks 'Upgrade: websocket'.");
        if (!request.Head.ConnectionUpgrade) return (400, "The request lacks 'Connection: Upgrade'.");
        if (!request.TryGetHeader("Sec-WebSocket-Version"u8, out var version)) return (400, "The request lacks Sec-WebSocket-Version.");
        if (!version.SequenceEqual("13"u8)) return (426, "This server speaks WebSocket version 13 only.");
        if (!request.TryGetHeader("Sec-WebSocket-Key"u8, out var key)) return (400, "The request lacks Sec-WebSocket-Key.");
        if (!Handshake.IsValidKey(key)) return (400, "Sec-WebSocket-Key is not base64 of 16 bytes.");
        return null;
    }
}
