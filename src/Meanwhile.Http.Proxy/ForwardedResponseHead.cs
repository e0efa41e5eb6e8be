using Meanwhile.Http.Server;

namespace Meanwhile.Http.Proxy;

/// <summary>
/// Copies an upstream's response head onto the server's response: the status, the fields minus the hop-by-hop ones
/// and those the server writes for its own hop (<c>Date</c>), and <c>Via</c>. The reason phrase is the standard one for
/// the status (the server writes its status lines); the framing is decided by the relay.
/// </summary>
internal static class ForwardedResponseHead
{
    public static void Copy(HttpResponseHead head, ServerResponse response, ProxyOptions options, in ForwardingBytes bytes)
    {
        response.StatusCode = head.StatusCode;
        CopyFields(head, response, options, bytes);
    }

    /// <summary>The fields alone: a 101's status, <c>Upgrade</c> and <c>Connection</c> are the server's to write (<see cref="ServerResponse.Upgrade"/>).</summary>
    public static void CopyFields(HttpResponseHead head, ServerResponse response, ProxyOptions options, in ForwardingBytes bytes)
    {
        var fields = head.Fields;
        bool checkConnection = head.ConnectionNamesOtherOptions;
        foreach (var field in fields)
        {
            var name = field.Name;
            if (HopByHop.IsHopByHopOrDate(name)) continue;
            if (checkConnection && HopByHop.NamedByConnection(fields, name)) continue;
            // Checked by the parser, copied as is; the fields the server writes itself (Date and the framing) are hop-by-hop.
            response.AddForwardedField(field);
        }
        if ((options.ForwardedHeaders & ForwardedHeaders.Via) != 0) response.AddCheckedFieldLine(bytes.ViaLine);
    }
}
