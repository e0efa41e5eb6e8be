using Meanwhile.Http.Server;

namespace Meanwhile.Cli;

/// <summary>
/// The files <c>serve</c> answers with. The real static-file handler (<c>StaticFiles</c>, with ranges, validators,
/// sendfile) is being written in Meanwhile.Http.Server; until it lands, this minimal GET/HEAD handler stands in, and
/// it is the one place to swap: <see cref="Handler"/>.
/// </summary>
internal static class SiteFiles
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8", [".htm"] = "text/html; charset=utf-8", [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8", [".json"] = "application/json", [".txt"] = "text/plain; charset=utf-8",
        [".svg"] = "image/svg+xml", [".png"] = "image/png", [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif", [".ico"] = "image/x-icon", [".webp"] = "image/webp", [".wasm"] = "application/wasm",
    };

    /// <summary>A handler serving <paramref name="root"/> (index.html for directories; nothing outside the root).</summary>
    public static RequestHandler Handler(string root)
    {
        string fullRoot = Path.GetFullPath(root).TrimEnd('/') + "/";
        return async (request, response) =>
        {
            if (!request.MethodIs("GET"u8) && !request.IsHead)
            {
                response.StatusCode = 405;
                response.AddHeader("Allow", "GET, HEAD");
                return;
            }
            string relative = Uri.UnescapeDataString(System.Text.Encoding.UTF8.GetString(request.Path)).TrimStart('/');
            string path = Path.GetFullPath(Path.Combine(fullRoot, relative));
            if (!path.StartsWith(fullRoot, StringComparison.Ordinal) && path + "/" != fullRoot)
            {
                response.StatusCode = 404;
                return;
            }
            if (Directory.Exists(path)) path = Path.Combine(path, "index.html");
            if (!File.Exists(path))
            {
                response.StatusCode = 404;
                return;
            }
            response.AddHeader("Content-Type", ContentTypes.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream"));
            // Regular files are not pollable: the read runs on a worker thread, and the loop serves others meanwhile.
            var bytes = await FileDataStream.ReadAllBytesAsync(path);
            response.ContentLength = bytes.Length;
            if (!request.IsHead) await response.WriteAsync(bytes);
        };
    }

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
