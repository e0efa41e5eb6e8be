using Meanwhile.Http.Server;

namespace Meanwhile.Cli;

/// <summary>The files <c>serve</c> answers with: the server's <see cref="StaticFiles"/>, and the sample site embedded in the tool.</summary>
internal static class SiteFiles
{
    /// <summary>
    /// A handler serving <paramref name="root"/>: index.html for directories, validators and ranges, bodies by sendfile,
    /// nothing outside the root (see StaticFiles).
    /// </summary>
    /// <param name="root">The directory.</param>
    /// <param name="listing">List the entries of a directory without an index file (otherwise 404).</param>
    /// <param name="openFileCache">Keep up to 1000 files open for 1 s (nginx's open_file_cache).</param>
    public static RequestHandler Handler(string root, bool listing, bool openFileCache = false) =>
        new StaticFiles(root, new StaticFileOptions { DirectoryListing = listing, OpenFileCacheEntries = openFileCache ? 1000 : 0 }).HandleAsync;

    /// <summary>Copies the sample site embedded in the tool to a new temporary directory and returns its path.</summary>
    public static string ExtractSample()
    {
        string dir = Directory.CreateTempSubdirectory("meanwhile-site-").FullName;
        var assembly = typeof(SiteFiles).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("site/", StringComparison.Ordinal)))
        {
            string target = Path.Combine(dir, name["site/".Length..]);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var source = assembly.GetManifestResourceStream(name)!;
            using var file = File.Create(target);
            source.CopyTo(file);
        }
        return dir;
    }
}
