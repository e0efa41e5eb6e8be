using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Proxy;

/// <summary>
/// A request that asks to switch protocols (<c>Connection: upgrade</c> with an <c>Upgrade</c> field, RFC 9110 7.8),
/// forwarded with both on a connection of its own: never one from the keep-alive pool, and it never goes back to it.
/// </summary>
public sealed partial class ProxyHandler
{
    /// <summary>
    /// Whether the request is forwarded as an upgrade: it asks for one, and the server can switch this connection (an
    /// HTTP/1.1 request without a body). Other upgrade offers lose their hop-by-hop fields and go as plain requests.
    /// </summary>
    private static bool AsksToUpgrade(ServerRequest request)
    {
        var head = request.Head;
        return head.ConnectionUpgrade && !head.HasBody && head.Version == HttpProtocolVersion.Http11 && head.Fields.TryGetValue("Upgrade"u8, out var offer) && !offer.IsEmpty;
    }

    /// <summary>
    /// After the upstream's 101: the 101 goes to the client (its fields, and the server's <c>Upgrade</c> and
    /// <c>Connection</c>), and the connection becomes a <see cref="Tunnel"/> once the server has written it. Any other
    /// answer to an upgrade request (a refusal, or a server that ignored the offer) is relayed as a normal response and
    /// its connection closed after it.
    /// </summary>
    private void SwitchToTunnel(UpstreamConnection connection, ServerResponse response)
    {
        string protocol = SwitchedProtocol(connection);
        ForwardedResponseHead.CopyFields(connection.Parser.Head, response, _options, _bytes);
        response.Upgrade(protocol, new Tunnel(connection, _tunnelDeadlines).RunAsync);
    }

    /// <summary>The protocol the upstream switched to, from its 101's <c>Upgrade</c> field (RFC 9110 7.8: one protocol, which it must name).</summary>
    private static string SwitchedProtocol(UpstreamConnection connection)
    {
        var head = connection.Parser.Head;
        if (head.Fields.TryGetValue("Upgrade"u8, out var value))
        {
            value = value.Trim(" \t"u8);
            if (!value.IsEmpty && value.IndexOfAny(" \t,"u8) < 0) return Encoding.ASCII.GetString(value);
        }
        throw new UpstreamException(UpstreamFailureKind.InvalidResponse, connection.Upstream, responseStarted: true);
    }
}
