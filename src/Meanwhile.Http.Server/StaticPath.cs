using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Meanwhile.Http.Server;

/// <summary>What a request path comes to once checked against the root.</summary>
internal enum PathVerdict : byte
{
    /// <summary>A path under the root (it may still not exist).</summary>
    Found,
    /// <summary>Nothing there, or a name the options hide (404).</summary>
    NotFound,
    /// <summary>Something there the server will not serve: a link leaving the root, no permission (403).</summary>
    Forbidden,
    /// <summary>A path that cannot name a file under the root: bad percent-encoding, NUL or control bytes, backslashes, <c>..</c> (400).</summary>
    BadRequest,
}

/// <summary>
/// The traversal defences of <see cref="StaticFiles"/>, in one place: the request path is percent-decoded exactly once,
/// checked byte by byte, split into segments that may not be <c>..</c>, joined under the root (whose real path is
/// resolved once), and then every symbolic link on the way is resolved so the real file must lie under the real root.
/// </summary>
internal sealed class StaticPath
{
    // Linux gives up after 40 links in one lookup (ELOOP); so do we.
    private const int MaxLinks = 40;
    private const int StackDecodeLimit = 512;
    private readonly string _prefix;
    private readonly bool _followOutside;
    private readonly bool _serveHidden;

    /// <exception cref="DirectoryNotFoundException">The root is not an existing directory.</exception>
    public StaticPath(string root, bool followOutside, bool serveHidden)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        string full = Path.GetFullPath(root);
        if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"The static files root {full} is not a directory.");
        // The root's own links are resolved once: every check below compares real paths with the real root.
        if (Canonicalize("/", full, out string real) != PathVerdict.Found)
            throw new DirectoryNotFoundException($"The static files root {full} cannot be resolved.");
        Root = real;
        _prefix = real == "/" ? "/" : real + "/";
        _followOutside = followOutside;
        _serveHidden = serveHidden;
    }

    /// <summary>The root's real path (no links, no trailing separator unless it is <c>/</c>).</summary>
    public string Root { get; }

    /// <summary>
    /// Decodes <paramref name="raw"/> (the percent-encoded path below the root, slashes optional) once and normalises it
    /// into <paramref name="relative"/>: segments joined by <c>/</c>, no empty or <c>.</c> segments, no leading slash.
    /// </summary>
    /// <param name="raw">The request's path bytes (a Router's catch-all value, or the whole path).</param>
    /// <param name="relative">The normalised relative path; empty for the root itself.</param>
    /// <param name="directoryForm">True when the path ends with a slash (or <c>/.</c>): the client asked for a directory.</param>
    public PathVerdict Decode(ReadOnlySpan<byte> raw, out string relative, out bool directoryForm)
    {
        relative = "";
        byte[]? rented = null;
        Span<byte> buffer = raw.Length <= StackDecodeLimit ? stackalloc byte[StackDecodeLimit] : (rented = ArrayPool<byte>.Shared.Rent(raw.Length));
        try
        {
            var verdict = DecodeInto(raw, buffer, out int length, out directoryForm);
            if (verdict == PathVerdict.Found && length > 0) relative = Encoding.UTF8.GetString(buffer[..length]);
            return verdict;
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// <see cref="Decode"/> into <paramref name="buffer"/> (at least <paramref name="raw"/>'s length): the normalised
    /// relative path as UTF-8 bytes, <paramref name="length"/> of them, without allocating.
    /// </summary>
    public PathVerdict DecodeInto(ReadOnlySpan<byte> raw, Span<byte> buffer, out int length, out bool directoryForm)
    {
        length = 0;
        directoryForm = false;
        // One pass of percent-decoding: "%252e" becomes the literal "%2e", never ".". Bytes that no file name
        // under a web root should hold are refused after decoding, so their encoded forms are refused too.
        // The usual path has nothing to decode or refuse: it is copied as a whole up to the first byte that needs a look.
        int plain = raw.IndexOfAny(DecodedOrRefused);
        if (plain < 0) plain = raw.Length;
        raw[..plain].CopyTo(buffer);
        int decodedLength = plain;
        for (int i = plain; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (b == (byte)'%')
            {
                if (i + 2 >= raw.Length) return PathVerdict.BadRequest;
                int high = HexValue(raw[i + 1]), low = HexValue(raw[i + 2]);
                if (high < 0 || low < 0) return PathVerdict.BadRequest;
                b = (byte)(high << 4 | low);
                i += 2;
            }
            // NUL would cut the path short in the kernel; a backslash is a separator on other systems (and in
            // some proxies' eyes); control bytes have no business in a URL's file name.
            if (b < 0x20 || b == 0x7F || b == (byte)'\\') return PathVerdict.BadRequest;
            buffer[decodedLength++] = b;
        }
        var decoded = buffer[..decodedLength];

        // Normalise in place: the write position never passes the read position.
        int written = 0;
        bool lastWasDirectory = true; // an empty path is the root directory
        int start = 0;
        while (start <= decoded.Length)
        {
            int slash = decoded[start..].IndexOf((byte)'/');
            int end = slash < 0 ? decoded.Length : start + slash;
            var segment = decoded[start..end];
            start = end + 1;
            if (segment.IsEmpty || segment.SequenceEqual("."u8))
            {
                lastWasDirectory = true;
                continue;
            }
            // Refused rather than resolved: ".." in a URL is either a mistake or an attack, never needed.
            if (segment.SequenceEqual(".."u8)) return PathVerdict.BadRequest;
            if (segment[0] == (byte)'.' && !_serveHidden) return PathVerdict.NotFound;
            if (written > 0) buffer[written++] = (byte)'/';
            segment.CopyTo(buffer[written..]);
            written += segment.Length;
            lastWasDirectory = false;
        }
        directoryForm = lastWasDirectory;
        if (!Utf8.IsValid(buffer[..written])) return PathVerdict.BadRequest;
        length = written;
        return PathVerdict.Found;
    }

    /// <summary>
    /// The path to open for <paramref name="relative"/> (from <see cref="Decode"/>) below <paramref name="directory"/>
    /// (the root, or a directory this method returned): with every link resolved and checked to stay under the root,
    /// unless links may leave it.
    /// </summary>
    /// <param name="directory">A real path under the root where <paramref name="relative"/> starts.</param>
    /// <param name="relative">A normalised relative path.</param>
    /// <param name="path">The path to open.</param>
    public PathVerdict Locate(string directory, string relative, out string path)
    {
        string lexical = relative.Length == 0 ? directory : directory == "/" ? "/" + relative : directory + "/" + relative;
        // Defence in depth: Decode already made leaving the root impossible lexically; this says so where it matters.
        if (!IsUnderRoot(lexical))
        {
            path = "";
            return PathVerdict.Forbidden;
        }
        if (_followOutside)
        {
            path = lexical; // the kernel follows links wherever they go: the option's promise
            return PathVerdict.Found;
        }
        var verdict = Canonicalize(directory, relative, out path);
        if (verdict == PathVerdict.Found && !IsUnderRoot(path)) return PathVerdict.Forbidden;
        return verdict;
    }

    private bool IsUnderRoot(string path) =>
        path.Length == Root.Length ? path == Root : path.StartsWith(_prefix, StringComparison.Ordinal);

    /// <summary>
    /// realpath(3) in managed code: walks <paramref name="relative"/> from the real directory <paramref name="start"/>,
    /// reading each component's link target (readlink) and splicing it into the walk, so the result names the same file
    /// with no link left in it. <c>..</c> from a link target pops a real directory, so it is exact, not lexical.
    /// </summary>
    /// <remarks>
    /// Between this walk and the open a local user who can write under the root could swap a directory for a link, so
    /// files are then opened with <see cref="DataStream.OpenFileBeneathAsync"/>, which cannot leave the root whatever the
    /// path has become; this walk gives the right status (403 for a link out, 404) and the directory decisions.
    /// </remarks>
    private static PathVerdict Canonicalize(string start, string relative, out string real)
    {
        string current = start;
        string rest = relative;
        int at = 0, links = 0;
        real = "";
        while (at <= rest.Length)
        {
            int slash = rest.IndexOf('/', at);
            int end = slash < 0 ? rest.Length : slash;
            var part = rest.AsSpan(at, end - at);
            at = end + 1;
            if (part.IsEmpty || part is ".") continue;
            if (part is "..")
            {
                int cut = current.LastIndexOf('/');
                current = cut <= 0 ? "/" : current[..cut];
                continue;
            }
            string candidate = current == "/" ? string.Concat("/", part) : string.Concat(current, "/", part);
            string? target;
            try
            {
                target = new FileInfo(candidate).LinkTarget; // null: not a link
            }
            catch (UnauthorizedAccessException)
            {
                return PathVerdict.Forbidden;
            }
            catch (IOException)
            {
                return PathVerdict.NotFound; // ENOENT, ENOTDIR (a file used as a directory), and the like
            }
            if (target is null)
            {
                current = candidate;
                continue;
            }
            if (++links > MaxLinks || target.Length == 0) return PathVerdict.NotFound;
            if (target[0] == '/') current = "/";
            rest = at < rest.Length ? string.Concat(target, "/", rest.AsSpan(at)) : target;
            at = 0;
        }
        real = current;
        return PathVerdict.Found;
    }

    /// <summary>The bytes the loop of <see cref="DecodeInto"/> must see: '%' and those it refuses.</summary>
    private static readonly SearchValues<byte> DecodedOrRefused = SearchValues.Create(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
         0x7F, (byte)'%', (byte)'\\']);

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
