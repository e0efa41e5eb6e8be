namespace Meanwhile.Http.Server;

/// <summary>How <see cref="StaticFiles"/> serves its directory. The defaults are the safe ones.</summary>
/// <remarks>Immutable once built (init-only), so every loop of a server shares one instance.</remarks>
public sealed record StaticFileOptions
{
    /// <summary>The file served for a directory requested with a trailing slash; null serves none. Default: <c>index.html</c>.</summary>
    public string? IndexFile
    {
        get;
        init => field = value is null || (value.Length > 0 && value.IndexOfAny(['/', '\\', '\0']) < 0 && value is not "." and not "..")
            ? value
            : throw new ArgumentException("The index file is a plain file name.", nameof(value));
    } = "index.html";

    /// <summary>Whether a directory without an index file gets an HTML list of its entries (otherwise 404). Default: false.</summary>
    public bool DirectoryListing { get; init; }

    /// <summary>
    /// Whether symbolic links may lead outside the root. When false (default) every link on the way to a file is
    /// resolved and the file's real path must lie under the root's real path, or the answer is 403; links that stay
    /// inside the root work either way.
    /// </summary>
    public bool FollowSymlinksOutsideRoot { get; init; }

    /// <summary>Whether names starting with a dot (<c>.git</c>, <c>.env</c>) are served; when false (default) they get 404 and listings omit them.</summary>
    public bool ServeHiddenFiles { get; init; }

    /// <summary>The <c>Cache-Control</c> value sent with files (e.g. <c>public, max-age=3600</c>); null (default) sends none.</summary>
    public string? CacheControl { get; init; }

    /// <summary>
    /// The catch-all route parameter that holds the file's path when the handler is mounted on a <see cref="Router"/>
    /// (<c>router.MapGet("/assets/{*path}", files.HandleAsync)</c>); without that parameter the whole request path is used.
    /// Default: <c>path</c>.
    /// </summary>
    public string RouteParameter { get; init => field = string.IsNullOrEmpty(value) ? throw new ArgumentException("A parameter name.", nameof(value)) : value; } = "path";

    /// <summary>
    /// How long one piece (<see cref="SendChunkBytes"/>) of a file body may take to reach a client that stopped reading;
    /// past it the connection is dropped, so a stalled download cannot hold a descriptor forever. Default: 30 s.
    /// </summary>
    public TimeSpan SendChunkTimeout { get; init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value)); } = TimeSpan.FromSeconds(30);

    /// <summary>The size of the pieces a file body is sent in, each under <see cref="SendChunkTimeout"/>. Default: 1 MiB.</summary>
    public int SendChunkBytes { get; init => field = value >= 4096 ? value : throw new ArgumentOutOfRangeException(nameof(value)); } = 1024 * 1024;
}
