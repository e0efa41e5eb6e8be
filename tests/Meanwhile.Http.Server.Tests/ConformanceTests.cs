using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>The conformance corpus (../shared/conformance) against the in-process echo server, on one loop and on two.</summary>
public sealed class ConformanceTests
{
    /// <summary>../shared/conformance beside the repository, when present.</summary>
    internal static string? CorpusDirectory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Meanwhile.slnx"))) dir = dir.Parent;
            if (dir?.Parent is null) return null;
            var corpus = Path.Combine(dir.Parent.FullName, "shared", "conformance");
            return File.Exists(Path.Combine(corpus, "run_http1.py")) ? corpus : null;
        }
    }

    public sealed class CorpusFactAttribute : TheoryAttribute
    {
        public CorpusFactAttribute()
        {
            if (CorpusDirectory is null) Skip = "../shared/conformance is not present beside the repository";
            else if (!Tool.Exists("python3")) Skip = "python3 is not installed";
        }
    }

    [CorpusFact]
    [InlineData(1)]
    [InlineData(2)]
    public async Task EveryCasePasses(int loops)
    {
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync, loops: loops);
        var corpus = CorpusDirectory!;
        var (code, stdout, stderr) = Tool.Run("python3", [Path.Combine(corpus, "run_http1.py"), "--port", server.Port.ToString(), Path.Combine(corpus, "http1-llhttp.jsonl")], timeoutSeconds: 120);
        Assert.True(code == 0, $"conformance failures on {loops} loop(s):\n{stdout}\n{stderr}");
        Assert.Matches(@"\d+ passed, 0 failed", stdout);
    }
}
