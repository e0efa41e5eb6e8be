using System.Text;

namespace Meanwhile.Http.WebSockets;

/// <summary>
/// What one connection agreed for permessage-deflate, from this side's point of view: whether each compressor starts
/// afresh with every message (no context takeover), and the options this side compresses with.
/// </summary>
internal sealed record DeflateSettings(bool ResetSendContext, bool ResetReceiveContext, PerMessageDeflateOptions Options);

/// <summary>
/// The negotiation of permessage-deflate (RFC 7692 5 and 7.1): the client's offer, the server's choice among offers and
/// its answer, and the client's check of that answer. This side only accepts what it can honour: its zlib compresses
/// with a 15-bit window, so an offer that caps the server's window lower is declined.
/// </summary>
internal static class DeflateNegotiation
{
    public const string Name = "permessage-deflate";
    private const string ServerNoContextTakeover = "server_no_context_takeover";
    private const string ClientNoContextTakeover = "client_no_context_takeover";
    private const string ServerMaxWindowBits = "server_max_window_bits";
    private const string ClientMaxWindowBits = "client_max_window_bits";

    /// <summary>The client's offer: one permessage-deflate, asking for no context takeover where the options say so.</summary>
    public static string Offer(PerMessageDeflateOptions options)
    {
        var offer = new StringBuilder(Name);
        if (!options.ServerContextTakeover) offer.Append("; ").Append(ServerNoContextTakeover);
        if (!options.ClientContextTakeover) offer.Append("; ").Append(ClientNoContextTakeover);
        return offer.ToString();
    }

    /// <summary>
    /// The server's choice: the first permessage-deflate offer it can honour, with its answer for
    /// <c>Sec-WebSocket-Extensions</c>; null when there is none (the connection then runs uncompressed).
    /// </summary>
    public static (string Answer, DeflateSettings Settings)? Accept(HttpFieldList requestFields, PerMessageDeflateOptions options)
    {
        var offers = ExtensionList.Parse(requestFields);
        if (offers is null) return null; // a malformed list: no extension is agreed
        foreach (var offer in offers)
        {
            if (offer.Name.Equals(Name, StringComparison.OrdinalIgnoreCase) && TryAccept(offer, options) is { } accepted) return accepted;
        }
        return null;
    }

    private static (string, DeflateSettings)? TryAccept(ExtensionItem offer, PerMessageDeflateOptions options)
    {
        bool serverNoContext = false, clientNoContext = false, serverBits = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in offer.Parameters)
        {
            if (!seen.Add(name)) return null; // a parameter twice: an invalid offer (RFC 7692 7)
            switch (name)
            {
                case ServerNoContextTakeover when value is null:
                    serverNoContext = true;
                    break;
                case ClientNoContextTakeover when value is null:
                    clientNoContext = true;
                    break;
                case ServerMaxWindowBits when WindowBits(value) is int bits:
                    if (bits != 15) return null; // zlib here compresses with 15 bits only: decline what it cannot honour
                    serverBits = true;
                    break;
                case ClientMaxWindowBits when value is null || WindowBits(value) is not null:
                    break; // only a hint that the client could limit its window; not answered, so it may use 15 bits, which inflate understands
                default:
                    return null; // an unknown parameter, or a known one with an invalid value
            }
        }
        serverNoContext |= !options.ServerContextTakeover; // a server may add these even when not offered (RFC 7692 7.1.1)
        clientNoContext |= !options.ClientContextTakeover;
        var answer = new StringBuilder(Name);
        if (serverNoContext) answer.Append("; ").Append(ServerNoContextTakeover);
        if (clientNoContext) answer.Append("; ").Append(ClientNoContextTakeover);
        if (serverBits) answer.Append("; ").Append(ServerMaxWindowBits).Append("=15");
        return (answer.ToString(), new DeflateSettings(ResetSendContext: serverNoContext, ResetReceiveContext: clientNoContext, options));
    }

    /// <summary>
    /// The client's check of the server's answer (RFC 7692 5 and 7.1): null settings when the server agreed no
    /// extension; a fault when it agreed one that was not offered, or parameters that are invalid or were not offered.
    /// </summary>
    public static DeflateSettings? CheckAnswer(HttpFieldList responseFields, PerMessageDeflateOptions? offered, out string? fault)
    {
        fault = null;
        var answer = ExtensionList.Parse(responseFields);
        if (answer is null)
        {
            fault = "a malformed Sec-WebSocket-Extensions";
            return null;
        }
        if (answer.Count == 0) return null;
        if (offered is null || answer.Count > 1 || !answer[0].Name.Equals(Name, StringComparison.OrdinalIgnoreCase))
        {
            fault = $"the extension '{string.Join(", ", answer.Select(a => a.Name))}', which was not offered";
            return null;
        }
        bool serverNoContext = false, clientNoContext = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in answer[0].Parameters)
        {
            bool valid = seen.Add(name) && name switch
            {
                ServerNoContextTakeover => value is null && (serverNoContext = true),
                ClientNoContextTakeover => value is null && (clientNoContext = true),
                ServerMaxWindowBits => WindowBits(value) is not null, // a smaller window than ours: inflate understands it
                _ => false, // client_max_window_bits was not offered; anything else is unknown
            };
            if (!valid)
            {
                fault = $"the permessage-deflate parameter '{name}{(value is null ? "" : "=" + value)}', which is invalid or was not offered";
                return null;
            }
        }
        return new DeflateSettings(ResetSendContext: clientNoContext || !offered.ClientContextTakeover, ResetReceiveContext: serverNoContext, offered);
    }

    /// <summary>A window size parameter's value, 8 to 15 without leading zeros (RFC 7692 7.1.2); null when invalid.</summary>
    private static int? WindowBits(string? value) =>
        value is { Length: 1 or 2 } && value[0] != '0' && value.All(char.IsAsciiDigit) && int.TryParse(value, out int bits) && bits is >= 8 and <= 15 ? bits : null;
}
