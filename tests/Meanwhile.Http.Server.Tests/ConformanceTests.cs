using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>The conformance corpus (tests/conformance) against the in-process echo server, on one loop and on two.</summary>
public sealed class ConformanceTests
{
    /// <summary>tests/conformance in the repository; part of it, so a missing corpus fails the test.</summary>
    internal static string CorpusDirectory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Meanwhile.slnx"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException($"Meanwhile.slnx not found above {AppContext.BaseDirectory}");
            var corpus = Path.Combine(dir.FullName, "tests", "conformance");
            return File.Exists(Path.Combine(corpus, "run_http1.py")) ? corpus
                : throw new FileNotFoundException($"the conformance corpus is missing from {corpus}", Path.Combine(corpus, "run_http1.py"));
        }
    }

    public sealed class Python3TheoryAttribute : TheoryAttribute
    {
        public Python3TheoryAttribute()
        {
            if (!Tool.Exists("python3")) Skip = "python3 is not installed";
        }
    }

    [Python3Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task EveryCasePasses(int loops)
    {
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync, loops: loops);
        var corpus = CorpusDirectory;
        var (code, stdout, stderr) = Tool.Run("python3", [Path.Combine(corpus, "run_http1.py"), "--port", server.Port.ToString(), Path.Combine(corpus, "http1-llhttp.jsonl")], timeoutSeconds: 120);
        Assert.True(code == 0, $"conformance failures on {loops} loop(s):\n{stdout}\n{stderr}");
        Assert.Matches(@"\d+ passed, 0 failed", stdout);
    }
}
