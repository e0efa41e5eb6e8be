namespace Meanwhile.Http.Tests;

/// <summary>
/// Finds and loads the shared HTTP/1.1 conformance corpus: <c>shared/conformance</c> beside the repository
/// root, found by walking up from the test assembly (or named by MEANWHILE_CONFORMANCE_DIR).
/// </summary>
internal static class Corpus
{
    internal const string FileName = "http1-llhttp.jsonl";

    private static readonly Lazy<string?> Location = new(Find);
    private static readonly Lazy<IReadOnlyDictionary<string, CorpusCase>> Loaded = new(Load);

    internal static string? Path => Location.Value;

    internal static IReadOnlyDictionary<string, CorpusCase> Cases => Loaded.Value;

    private static string? Find()
    {
        string? configured = Environment.GetEnvironmentVariable("MEANWHILE_CONFORMANCE_DIR");
        if (!string.IsNullOrEmpty(configured))
        {
            string file = System.IO.Path.Combine(configured, FileName);
            return File.Exists(file) ? file : null;
        }

        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "shared", "conformance", FileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static IReadOnlyDictionary<string, CorpusCase> Load()
    {
        if (Path is null)
        {
            return new Dictionary<string, CorpusCase>();
        }

        return File.ReadLines(Path)
            .Where(line => !string.IsNullOrWhiteSpace(line))
            .Select(CorpusCase.Parse)
            .ToDictionary(c => c.Id);
    }
}
