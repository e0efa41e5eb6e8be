using System.IO.Compression;

namespace Meanwhile.Http.Client;

/// <summary>Content codings the client decodes (RFC 9110 8.4.1): gzip, deflate (zlib format) and br.</summary>
internal static class ContentDecoding
{
    /// <summary>The Accept-Encoding value sent by default.</summary>
    public static ReadOnlySpan<byte> AcceptEncoding => "gzip, deflate, br"u8;

    /// <summary>
    /// Wraps <paramref name="raw"/> in decoders for <paramref name="codings"/> (a Content-Encoding value), last applied
    /// first; returns null when a coding is unknown (the body is then handed over as received).
    /// </summary>
    public static Stream? TryDecode(Stream raw, ReadOnlySpan<byte> codings)
    {
        Stream decoded = raw;
        bool any = false;
        while (!codings.IsEmpty)
        {
            // Codings are listed in the order applied, so the last one is undone first.
            int comma = codings.LastIndexOf((byte)',');
            var coding = codings[(comma + 1)..].Trim(" \t"u8);
            codings = comma < 0 ? default : codings[..comma];
            if (coding.IsEmpty || System.Text.Ascii.EqualsIgnoreCase(coding, "identity"u8))
            {
                continue;
            }

            if (System.Text.Ascii.EqualsIgnoreCase(coding, "gzip"u8) || System.Text.Ascii.EqualsIgnoreCase(coding, "x-gzip"u8))
            {
                decoded = new GZipStream(decoded, CompressionMode.Decompress);
            }
            else if (System.Text.Ascii.EqualsIgnoreCase(coding, "deflate"u8))
            {
                decoded = new ZLibStream(decoded, CompressionMode.Decompress);
            }
            else if (System.Text.Ascii.EqualsIgnoreCase(coding, "br"u8))
            {
                decoded = new BrotliStream(decoded, CompressionMode.Decompress);
            }
            else
            {
                return null;
            }

            any = true;
        }

        return any ? decoded : raw;
    }
}
