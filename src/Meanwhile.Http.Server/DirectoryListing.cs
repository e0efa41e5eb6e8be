using System.Net;
using System.Text;

namespace Meanwhile.Http.Server;

/// <summary>
/// The HTML page <see cref="StaticFiles"/> sends for a directory without an index file, when listings are enabled.
/// Every name is escaped twice over: percent-encoded in the link (so <c>"</c>, <c>&lt;</c>, <c>?</c>, <c>#</c> stay
/// part of the name) and HTML-encoded in the text (so a file called <c>&lt;script&gt;</c> is only text).
/// </summary>
internal static class DirectoryListing
{
    /// <summary>Reads <paramref name="directory"/> and renders its page (blocking: run it on a worker).</summary>
    /// <param name="directory">The directory to list.</param>
    /// <param name="title">The path shown as the title (decoded text; it is escaped here).</param>
    /// <param name="showHidden">Whether names starting with a dot are listed.</param>
    /// <param name="isRoot">Whether to leave out the link to the parent directory.</param>
    public static byte[] Render(string directory, string title, bool showHidden, bool isRoot)
    {
        var entries = new List<(string Name, bool IsDirectory)>();
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (!showHidden && entry.Name.StartsWith('.')) continue;
            // A link to a directory is listed as one (Attributes follows the link); whether it may be followed is
            // decided when it is requested.
            entries.Add((entry.Name, (entry.Attributes & FileAttributes.Directory) != 0));
        }
        entries.Sort(static (a, b) => a.IsDirectory != b.IsDirectory ? (a.IsDirectory ? -1 : 1) : string.CompareOrdinal(a.Name, b.Name));

        string heading = WebUtility.HtmlEncode(title);
        var html = new StringBuilder(256 + entries.Count * 96);
        html.Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ").Append(heading)
            .Append("</title></head>\n<body><h1>Index of ").Append(heading).Append("</h1>\n<ul>\n");
        if (!isRoot) html.Append("<li><a href=\"../\">../</a></li>\n");
        foreach (var (name, isDirectory) in entries)
        {
            string slash = isDirectory ? "/" : "";
            html.Append("<li><a href=\"").Append(Uri.EscapeDataString(name)).Append(slash).Append("\">")
                .Append(WebUtility.HtmlEncode(name)).Append(slash).Append("</a></li>\n");
        }
        html.Append("</ul></body></html>\n");
        return Encoding.UTF8.GetBytes(html.ToString());
    }
}
