using System.Collections.Frozen;
using System.Text;

namespace Meanwhile.Http.Server;

/// <summary>
/// The one table of media types by file extension that <see cref="StaticFiles"/> uses for <c>Content-Type</c>.
/// Text types carry <c>charset=utf-8</c>: a browser would otherwise guess (and a guess can turn text into script).
/// </summary>
/// <remarks>Lookups are case-insensitive, allocate nothing and are safe from any thread.</remarks>
public static class MimeTypes
{
    /// <summary>The type of a file whose extension is not in the table: bytes the browser downloads rather than renders.</summary>
    public const string Default = "application/octet-stream";

    private static readonly FrozenDictionary<string, byte[]> Table = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        // Documents and code a browser runs or renders.
        [".html"] = "text/html; charset=utf-8",
        [".htm"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8", // RFC 9239
        [".mjs"] = "text/javascript; charset=utf-8",
        [".json"] = "application/json",
        [".map"] = "application/json",
        [".webmanifest"] = "application/manifest+json",
        [".wasm"] = "application/wasm",
        [".xml"] = "application/xml",
        [".txt"] = "text/plain; charset=utf-8",
        [".md"] = "text/markdown; charset=utf-8",
        [".csv"] = "text/csv; charset=utf-8",
        [".pdf"] = "application/pdf",
        // Images.
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".webp"] = "image/webp",
        [".avif"] = "image/avif",
        [".svg"] = "image/svg+xml",
        [".ico"] = "image/x-icon",
        [".bmp"] = "image/bmp",
        // Fonts.
        [".woff"] = "font/woff",
        [".woff2"] = "font/woff2",
        [".ttf"] = "font/ttf",
        [".otf"] = "font/otf",
        // Audio and video.
        [".mp3"] = "audio/mpeg",
        [".ogg"] = "audio/ogg",
        [".wav"] = "audio/wav",
        [".mp4"] = "video/mp4",
        [".webm"] = "video/webm",
        // Archives.
        [".zip"] = "application/zip",
        [".gz"] = "application/gzip",
        [".tar"] = "application/x-tar",
    }.ToFrozenDictionary(pair => pair.Key, pair => Encoding.ASCII.GetBytes(pair.Value), StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, byte[]>.AlternateLookup<ReadOnlySpan<char>> ByExtension =
        Table.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly byte[] DefaultBytes = Encoding.ASCII.GetBytes(Default);

    /// <summary>The media type for <paramref name="path"/>'s extension, or <see cref="Default"/>.</summary>
    /// <param name="path">A file name or path, e.g. <c>site/app.js</c>.</param>
    public static string GetContentType(ReadOnlySpan<char> path) => Encoding.ASCII.GetString(GetContentTypeBytes(path));

    /// <summary>The media type for <paramref name="path"/>'s extension as ASCII bytes, ready for a header (no allocation).</summary>
    /// <param name="path">A file name or path.</param>
    public static ReadOnlySpan<byte> GetContentTypeBytes(ReadOnlySpan<char> path)
    {
        var extension = Path.GetExtension(path);
        return !extension.IsEmpty && ByExtension.TryGetValue(extension, out var type) ? type : DefaultBytes;
    }

    /// <summary>The media type for the extension of a UTF-8 path, as ASCII bytes (no allocation).</summary>
    internal static ReadOnlySpan<byte> GetContentTypeBytes(ReadOnlySpan<byte> utf8Path)
    {
        int dot = utf8Path.LastIndexOf((byte)'.');
        if (dot < 0 || utf8Path[dot..].Contains((byte)'/') || utf8Path.Length - dot > 16) return DefaultBytes;
        // The thread's last answer first: a site serves few extensions, and the table's case-insensitive lookup cost
        // more than the rest of this method. Keyed by the exact bytes, so it answers as the table does.
        var extension = utf8Path[dot..];
        var last = s_last ??= new LastLookup();
        if (last.Type is { } known && extension.SequenceEqual(last.Extension.AsSpan(0, last.Length))) return known;
        Span<char> chars = stackalloc char[16];
        for (int i = 0; i < extension.Length; i++) chars[i] = (char)extension[i]; // ASCII in every known extension
        var type = ByExtension.TryGetValue(chars[..extension.Length], out var found) ? found : DefaultBytes;
        extension.CopyTo(last.Extension);
        last.Length = extension.Length;
        last.Type = type;
        return type;
    }

    /// <summary>One thread's last extension (at most 16 bytes) and its type.</summary>
    private sealed class LastLookup
    {
        public readonly byte[] Extension = new byte[16];
        public int Length;
        public byte[]? Type;
    }

    [ThreadStatic] private static LastLookup? s_last;
}
