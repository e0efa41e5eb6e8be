namespace Meanwhile.Http.Proxy;

/// <summary>
/// Which header fields stop at the proxy (RFC 9110 7.6.1): the connection's own fields, those named in its
/// <c>Connection</c> field, and the framing the proxy writes afresh for its side of each hop.
/// </summary>
internal static class HopByHop
{
    /// <summary>
    /// True for <c>Connection</c>, <c>Proxy-Connection</c>, <c>Keep-Alive</c>, <c>TE</c>, <c>Transfer-Encoding</c>,
    /// <c>Upgrade</c>, and the framing fields <c>Content-Length</c> and <c>Trailer</c> (each hop frames its body itself;
    /// trailers are not forwarded).
    /// </summary>
    public static bool IsHopByHop(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 => HttpField.EqualsIgnoreCase(name, "TE"u8),
        7 => HttpField.EqualsIgnoreCase(name, "Upgrade"u8) || HttpField.EqualsIgnoreCase(name, "Trailer"u8),
        10 => HttpField.EqualsIgnoreCase(name, "Connection"u8) || HttpField.EqualsIgnoreCase(name, "Keep-Alive"u8),
        14 => HttpField.EqualsIgnoreCase(name, "Content-Length"u8),
        16 => HttpField.EqualsIgnoreCase(name, "Proxy-Connection"u8),
        17 => HttpField.EqualsIgnoreCase(name, "Transfer-Encoding"u8),
        _ => false,
    };

    /// <summary>
    /// <see cref="IsHopByHop"/>, or <c>Date</c> (which the server writes for its own hop): the fields a relayed response
    /// drops, among them every field <see cref="Meanwhile.Http.Server.ServerResponse"/> writes itself.
    /// </summary>
    public static bool IsHopByHopOrDate(ReadOnlySpan<byte> name) =>
        name.Length == 4 ? HttpField.EqualsIgnoreCase(name, "Date"u8) : IsHopByHop(name);

    /// <summary>True when a <c>Connection</c> field of <paramref name="fields"/> lists <paramref name="name"/>.</summary>
    public static bool NamedByConnection(HttpFieldList fields, ReadOnlySpan<byte> name)
    {
        foreach (var field in fields)
        {
            if (!field.NameEquals("Connection"u8)) continue;
            foreach (var token in new TokenList(field.Value))
            {
                if (HttpField.EqualsIgnoreCase(token, name)) return true;
            }
        }
        return false;
    }

    /// <summary>The comma-separated elements of a list field (RFC 9110 5.6.1), trimmed of whitespace, empty ones skipped.</summary>
    public ref struct TokenList(ReadOnlySpan<byte> value)
    {
        private ReadOnlySpan<byte> _rest = value;

        public ReadOnlySpan<byte> Current { get; private set; }

        public readonly TokenList GetEnumerator() => this;

        public bool MoveNext()
        {
            while (!_rest.IsEmpty)
            {
                int comma = _rest.IndexOf((byte)',');
                var element = comma < 0 ? _rest : _rest[..comma];
                _rest = comma < 0 ? default : _rest[(comma + 1)..];
                element = element.Trim(" \t"u8);
                if (element.IsEmpty) continue;
                Current = element;
                return true;
            }
            return false;
        }
    }
}
