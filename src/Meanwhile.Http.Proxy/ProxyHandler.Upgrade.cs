using System.Runtime.CompilerServices;
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
    /// Sends the upgrade request and reads the answer: a 101 is sent on to the client and the connection becomes a
    /// <see cref="Tunnel"/> once the server has written it; any other response (a refusal, or a server that ignored
    /// the offer) is relayed as a normal one and the connection closed after it.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask UpgradeExchangeAsync(Upstream upstream, ServerRequest request, ServerResponse response)
    {
        UpstreamConnection? connection = await ConnectAsync(upstream);
        try
        {
            var output = connection.Output;
            output.Clear();
            ForwardedRequestHead.Write(output, request, upstream, _options, _bytes, upgrade: true);
            await WriteOutputAsync(connection).ConfigureAwait(false);
            await ReadHeadAsync(connection, request, upgrade: true).ConfigureAwait(false);
            upstream.Succeeded();
            var head = connection.Parser.Head;
            if (head.StatusCode != 101)
            {
                await RelayAsync(connection, response).ConfigureAwait(false);
                return;
            }
            string protocol = SwitchedProtocol(connection);
            ForwardedResponseHead.CopyFields(head, response, _options, _bytes);
            response.Upgrade(protocol, new Tunnel(connection, _tunnelDeadlines).RunAsync);
            connection = null; // the tunnel's now
        }
        finally
        {
            connection?.Close();
        }
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
