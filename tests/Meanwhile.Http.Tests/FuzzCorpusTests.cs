using Meanwhile.Fuzz;

namespace Meanwhile.Http.Tests;

/// <summary>
/// Replays the fuzzing seeds and every past finding (fuzz/corpus and fuzz/regressions) through the same targets
/// and oracles AFL++ runs, so a fixed finding cannot come back unnoticed.
/// </summary>
public sealed class FuzzCorpusTests
{
    private static readonly string FuzzDirectory = FindFuzzDirectory();

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (string target in FuzzTargets.Names)
        {
            foreach (string folder in (string[])["corpus", "regressions"])
            {
                string directory = Path.Combine(FuzzDirectory, folder, target);
                if (!Directory.Exists(directory))
                {
                    continue;
                }

                foreach (string file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
                {
                    data.Add(target, Path.GetRelativePath(FuzzDirectory, file));
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Input_passes_every_oracle(string target, string file) =>
        FuzzTargets.Run(target, File.ReadAllBytes(Path.Combine(FuzzDirectory, file)));

    [Fact]
    public void Every_target_has_seeds()
    {
        foreach (string target in FuzzTargets.Names)
        {
            Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(FuzzDirectory, "corpus", target)));
        }
    }

    [Fact]
    public void Descriptions_carry_what_the_oracles_compare()
    {
        // The split oracle compares these texts, so they must show every part of a message that could differ.
        byte[] request = "POST /a HTTP/1.1\r\nHost: x\r\nX-A:  b \r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\nGET /b HTTP/1.1\r\n"u8.ToArray();
        using var whole = new HttpRequestParser();
        string text = ParseRun.Describe(whole, request, [], endOfInput: true);
        Assert.Equal(
            "request POST /a Origin Http11 Chunked length=-1 keepalive=True\n" +
            "field Host: x\nfield X-A: b\nfield Transfer-Encoding: chunked\n" +
            "body 3 BA7816BF8F01CFEA\ntrailer T: 1\ncomplete\n" +
            "error IncompleteMessage 400",
            text);

        using var split = new HttpRequestParser();
        Assert.Equal(text, ParseRun.Describe(split, request, ParseRun.EveryByte(request.Length), endOfInput: true));
        Assert.Equal(ParseRun.DataDrivenCuts(request), ParseRun.DataDrivenCuts(request));
        Assert.All(ParseRun.DataDrivenCuts(request), cut => Assert.InRange(cut, 1, request.Length - 1));
    }

    private static string FindFuzzDirectory()
    {
        DirectoryInfo? dir = new(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Meanwhile.slnx")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("Meanwhile.slnx not found above the test binaries."), "fuzz");
    }
}
