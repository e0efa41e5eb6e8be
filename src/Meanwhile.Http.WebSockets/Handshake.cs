using System.Security.Cryptography;
using System.Text;

namespace Meanwhile.Http.WebSockets;

/// <summary>The parts of the opening handshake (RFC 6455 4) both sides share: the accept key, comma-separated token lists.</summary>
internal static class Handshake
{
    private static readonly byte[] KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.ToArray();

    /// <summary>The <c>Sec-WebSocket-Accept</c> value for a <c>Sec-WebSocket-Key</c>: base64(SHA-1(key + the RFC's GUID)).</summary>
    public static string AcceptFor(ReadOnlySpan<byte> key)
    {
        Span<byte> joined = stackalloc byte[key.Length + KeyGuid.Length];
        key.CopyTo(joined);
        KeyGuid.CopyTo(joined[key.Length..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(joined, hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>Whether <paramref name="key"/> is base64 of exactly 16 bytes, as a <c>Sec-WebSocket-Key</c> must be.</summary>
    public static bool IsValidKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != 24) return false;
        Span<byte> decoded = stackalloc byte[18];
        return System.Buffers.Text.Base64.DecodeFromUtf8(key, decoded, out _, out int written) == System.Buffers.OperationStatus.Done && written == 16;
    }

    /// <summary>Whether the comma-separated list <paramref name="value"/> holds <paramref name="token"/> (ASCII case ignored).</summary>
    public static bool ListContains(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (var range in value.Split((byte)','))
        {
            if (System.Text.Ascii.EqualsIgnoreCase(Trim(value[range]), token)) return true;
        }
        return false;
    }

    /// <summary>The items of every field named <paramref name="name"/>, each a trimmed piece of a comma-separated list.</summary>
    public static List<string> ListItems(HttpFieldList fields, ReadOnlySpan<byte> name)
    {
        var items = new List<string>();
        foreach (var field in fields)
        {
            if (!field.NameEquals(name)) continue;
            foreach (var range in field.Value.Split((byte)','))
            {
                var item = Trim(field.Value[range]);
                if (!item.IsEmpty) items.Add(Encoding.Latin1.GetString(item));
            }
        }
        return items;
    }

    /// <summary>Whether any field named <paramref name="name"/> lists <paramref name="token"/>.</summary>
    public static bool AnyListContains(HttpFieldList fields, ReadOnlySpan<byte> name, ReadOnlySpan<byte> token)
    {
        foreach (var field in fields)
        {
            if (field.NameEquals(name) && ListContains(field.Value, token)) return true;
        }
        return false;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s) => s.Trim(" \t"u8);
}
