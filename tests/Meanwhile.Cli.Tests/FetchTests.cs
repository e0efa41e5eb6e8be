using System.Text.Json;

namespace Meanwhile.Cli.Tests;

public sealed class FetchTests : IClassFixture<NginxFixture>
{
    private readonly NginxFixture _nginx;

    public FetchTests(NginxFixture nginx) => _nginx = nginx;

    [Fact]
    public void Fetch_downloads_from_nginx_and_the_bytes_match()
    {
        var dir = Directory.CreateTempSubdirectory("meanwhile-fetch-");
        try
        {
            var (code, stdout, stderr) = ToolProcess.Run("fetch", _nginx.Http("/big.bin").ToString(), _nginx.Http("/hello.txt").ToString(), _nginx.Http("/big.txt").ToString(), "-c", "2", "-o", dir.FullName, "--json");
            Assert.True(code == 0, stderr + stdout);
            Assert.Equal(_nginx.BigBinary, File.ReadAllBytes(Path.Combine(dir.FullName, "big.bin")));
            Assert.Equal("Hello, World!", File.ReadAllText(Path.Combine(dir.FullName, "hello.txt")));
            Assert.Equal(_nginx.BigText, File.ReadAllText(Path.Combine(dir.FullName, "big.txt"))); // gzip decoded
            using var json = JsonDocument.Parse(stdout);
            Assert.True(json.RootElement.GetProperty("ok").GetBoolean());
            var results = json.RootElement.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(3, results.Count);
            Assert.All(results, r => Assert.Equal(200, r.GetProperty("status").GetInt32()));
            Assert.Equal(_nginx.BigBinary.Length, results[0].GetProperty("bytes").GetInt64());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Fetch_reads_urls_from_a_file_and_fails_when_one_fails()
    {
        string list = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(list, ["# a comment", _nginx.Http("/hello.txt").ToString(), "", _nginx.Http("/missing").ToString()]);
            var (code, stdout, stderr) = ToolProcess.Run("fetch", "-i", list);
            Assert.True(code == 1, stderr + stdout);
            Assert.Contains("404", stdout);
            Assert.Contains("1 failed", stdout);
            Assert.False(stdout.Contains((char)27), "escape codes in piped output");
        }
        finally
        {
            File.Delete(list);
        }
    }
}
