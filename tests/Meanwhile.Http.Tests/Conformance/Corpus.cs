namespace Meanwhile.Http.Tests;

/// <summary>
/// Finds and loads the HTTP/1.1 conformance corpus: <c>tests/conformance</c> in the repository, found by walking up
/// from the test assembly (or the directory MEANWHILE_CONFORMANCE_DIR names, to run another corpus). The corpus is
/// part of the repository, so a missing one fails the tests rather than skipping them.
/// </summary>
internal static class Corpus
{
    internal const string FileName = "http1-llhttp.jsonl";

    private static readonly Lazy<string> Location = new(Find);
    private static readonly Lazy<IReadOnlyDictionary<string, CorpusCase>> Loaded = new(Load);

    internal static string Path => Location.Value;

    internal static IReadOnlyDictionary<string, CorpusCase> Cases => Loaded.Value;

    private static string Find()
    {
        string? configured = Environment.GetEnvironmentVariable("MEANWHILE_CONFORMANCE_DIR");
        if (!string.IsNullOrEmpty(configured))
        {
            string file = System.IO.Path.Combine(configured, FileName);
            return File.Exists(file) ? file : throw new FileNotFoundException($"MEANWHILE_CONFORMANCE_DIR names {configured}, which has no {FileName}", file);
        }

        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "tests", "conformance", FileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"the conformance corpus is missing: no tests/conformance/{FileName} above {AppContext.BaseDirectory}", FileName);
    }

    private static IReadOnlyDictionary<string, CorpusCase> Load() =>
        File.ReadLines(Path)
            .Where(line => !string.IsNullOrWhiteSpace(line))
            .Select(CorpusCase.Parse)
            .ToDictionary(c => c.Id);
}
