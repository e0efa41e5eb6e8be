using System.Net;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Proxy;

/// <summary>
/// Writes the head a request is forwarded with: the request line in origin form, <c>Host</c>, the client's fields
/// minus the hop-by-hop ones, the forwarding fields, and framing for the body as it will be sent. Bytes to bytes: the
/// parser already checked every field, and nothing here makes a string. A request opening a tunnel keeps its
/// <c>Upgrade</c> field and says <c>Connection: upgrade</c> (what nginx is told with <c>proxy_set_header</c>).
/// </summary>
internal static class ForwardedRequestHead
{
    public static void Write(PooledByteBuffer output, ServerRequest request, Upstream upstream, ProxyOptions options, in ForwardingBytes bytes, ClientAddressText clientAddress, bool upgrade = false)
    {
        var head = request.Head;
        var fields = head.Fields;
        WriteRequestLine(output, head.Method, OriginForm(head.Target));

        fields.TryGetValue("Host"u8, out var clientHost);
        // Values checked already (the parser checked the client's, Uri the upstream's): written as they are.
        WriteCheckedField(output, "Host: "u8, options.PreserveHost && !clientHost.IsEmpty ? clientHost : upstream.Authority);

        var added = options.ForwardedHeaders;
        bool checkConnection = head.ConnectionNamesOtherOptions;
        bool hasForwardedFor = false;
        foreach (var field in fields)
        {
            var name = field.Name;
            if (HopByHop.IsHopByHop(name) || IsReplaced(name, added, ref hasForwardedFor))
            {
                if (upgrade && name.Length == 7 && HttpField.EqualsIgnoreCase(name, "Upgrade"u8)) HttpHeadWriter.WriteField(output, field);
                continue;
            }
            if (checkConnection && HopByHop.NamedByConnection(fields, name)) continue;
            HttpHeadWriter.WriteField(output, field); // checked by the parser: copied as is
        }

        if (upgrade) output.Write("Connection: upgrade\r\n"u8);
        if ((added & ForwardedHeaders.Via) != 0) output.Write(bytes.ViaLine);
        if ((added & ForwardedHeaders.XForwardedFor) != 0) WriteForwardedFor(output, fields, hasForwardedFor, request.RemoteEndPoint, clientAddress);
        if ((added & ForwardedHeaders.XForwardedProto) != 0) output.Write(bytes.SchemeLine);
        if ((added & ForwardedHeaders.XForwardedHost) != 0 && !clientHost.IsEmpty) WriteCheckedField(output, "X-Forwarded-Host: "u8, clientHost);

        if (head.ContentLength >= 0) HttpHeadWriter.WriteContentLength(output, head.ContentLength);
        else if (head.HasBody) HttpHeadWriter.WriteChunkedTransferEncoding(output);
        HttpHeadWriter.WriteEndOfHead(output);
    }

    /// <summary>
    /// Fields the proxy answers or writes itself: <c>Host</c> (above), <c>Expect</c> (the server answers
    /// <c>100-continue</c> when the body is first read), and the forwarding fields it sets.
    /// </summary>
    private static bool IsReplaced(ReadOnlySpan<byte> name, ForwardedHeaders added, ref bool hasForwardedFor)
    {
        switch (name.Length)
        {
            case 4: return HttpField.EqualsIgnoreCase(name, "Host"u8);
            case 6: return HttpField.EqualsIgnoreCase(name, "Expect"u8);
            case 15 when HttpField.EqualsIgnoreCase(name, "X-Forwarded-For"u8):
                hasForwardedFor = true;
                return (added & ForwardedHeaders.XForwardedFor) != 0;
            case 16: return (added & ForwardedHeaders.XForwardedHost) != 0 && HttpField.EqualsIgnoreCase(name, "X-Forwarded-Host"u8);
            case 17: return (added & ForwardedHeaders.XForwardedProto) != 0 && HttpField.EqualsIgnoreCase(name, "X-Forwarded-Proto"u8);
            default: return false;
        }
    }

    /// <summary>
    /// <c>method SP target SP HTTP/1.1 CRLF</c>, unchecked: the parser checked the method and the target, and the origin
    /// form is a part of that target (or <c>/</c> before its query).
    /// </summary>
    private static void WriteRequestLine(PooledByteBuffer output, ReadOnlySpan<byte> method, ReadOnlySpan<byte> target)
    {
        ReadOnlySpan<byte> version = " HTTP/1.1\r\n"u8;
        var span = output.GetSpan(method.Length + 1 + target.Length + version.Length);
        method.CopyTo(span);
        int at = method.Length;
        span[at++] = (byte)' ';
        target.CopyTo(span[at..]);
        at += target.Length;
        version.CopyTo(span[at..]);
        output.Advance(at + version.Length);
    }

    /// <summary>A field whose value is known to be valid: <paramref name="nameAndColon"/> (<c>"Name: "</c>), the value, CRLF.</summary>
    private static void WriteCheckedField(PooledByteBuffer output, ReadOnlySpan<byte> nameAndColon, ReadOnlySpan<byte> value)
    {
        var span = output.GetSpan(nameAndColon.Length + value.Length + 2);
        nameAndColon.CopyTo(span);
        value.CopyTo(span[nameAndColon.Length..]);
        int end = nameAndColon.Length + value.Length;
        span[end] = (byte)'\r';
        span[end + 1] = (byte)'\n';
        output.Advance(end + 2);
    }

    /// <summary><c>X-Forwarded-For</c>: the values already there, in order, then the client's address.</summary>
    private static void WriteForwardedFor(PooledByteBuffer output, HttpFieldList fields, bool hasEarlier, EndPoint? remote, ClientAddressText clientAddress)
    {
        ReadOnlySpan<byte> name = "X-Forwarded-For: "u8;
        name.CopyTo(output.GetSpan(name.Length));
        output.Advance(name.Length);
        bool first = true;
        if (hasEarlier)
        {
            foreach (var field in fields)
            {
                if (!field.NameEquals("X-Forwarded-For"u8) || field.Value.IsEmpty) continue;
                if (!first) output.Write(", "u8);
                output.Write(field.Value);
                first = false;
            }
        }
        if (!first) output.Write(", "u8);
        if (remote is IPEndPoint ip) output.Write(clientAddress.Of(ip.Address));
        else output.Write("unknown"u8);
        output.Write("\r\n"u8);
    }

    /// <summary>The target in origin form: an absolute-form target (sent to proxies) loses its scheme and authority.</summary>
    private static ReadOnlySpan<byte> OriginForm(ReadOnlySpan<byte> target)
    {
        if (target.IsEmpty || target[0] == (byte)'/' || target.SequenceEqual("*"u8)) return target;
        int scheme = target.IndexOf("://"u8);
        if (scheme < 0) return target;
        var rest = target[(scheme + 3)..];
        int path = rest.IndexOfAny((byte)'/', (byte)'?');
        if (path < 0) return "/"u8;
        return rest[path] == (byte)'/' ? rest[path..] : ConcatRoot(rest[path..]);
    }

    // "http://h?q" has an empty path: origin form needs "/?q". Rare enough to allocate.
    private static byte[] ConcatRoot(ReadOnlySpan<byte> query) => [(byte)'/', .. query];
}

/// <summary>
/// The text of the last client address forwarded, kept for the next request: a client's requests come one after
/// another on its connection, so formatting the address once per run of them saves it on all the others. One entry,
/// in a buffer of its own: another client only costs the formatting it would have cost anyway, and no allocation.
/// </summary>
internal sealed class ClientAddressText
{
    private readonly byte[] _text = new byte[64]; // an IPv6 address with a scope is at most 65 characters: see Of
    private IPAddress? _address;
    private int _length;

    /// <summary>The address as text (<see cref="IPAddress.TryFormat(Span{byte}, out int)"/>).</summary>
    public ReadOnlySpan<byte> Of(IPAddress address)
    {
        if (!address.Equals(_address))
        {
            if (!address.TryFormat(_text, out _length))
            {
                _address = null;
                return System.Text.Encoding.ASCII.GetBytes(address.ToString()); // longer than the buffer: rare, allocates
            }
            _address = address;
        }
        return _text.AsSpan(0, _length);
    }
}

/// <summary>The bytes a handler writes on every forwarded request, encoded and checked once.</summary>
internal readonly struct ForwardingBytes(ProxyOptions options)
{
    /// <summary><c>Via</c> as a whole field line, checked as a field when made (a bad name throws here, not per request).</summary>
    public byte[] ViaLine { get; } = FieldLine("Via"u8, Encoding.ASCII.GetBytes($"1.1 {options.ViaName}"));

    /// <summary><c>X-Forwarded-Proto</c> as a whole field line.</summary>
    public byte[] SchemeLine { get; } = FieldLine("X-Forwarded-Proto"u8, Encoding.ASCII.GetBytes(options.ClientScheme));

    private static byte[] FieldLine(ReadOnlySpan<byte> name, byte[] value)
    {
        var line = new PooledByteBuffer(64);
        HttpHeadWriter.WriteField(line, name, value);
        byte[] bytes = line.WrittenSpan.ToArray();
        line.Release();
        return bytes;
    }
}
