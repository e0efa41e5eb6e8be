using System.Text.Json;

namespace Meanwhile.Cli.Tests;

/// <summary><c>serve</c>'s access log options as a user meets them: where the log goes, its format, and a bad path.</summary>
public sealed class AccessLogOptionTests : IDisposable
{
    private readonly DirectoryInfo _site = Directory.CreateTempSubdirectory("meanwhile-log-");

    public AccessLogOptionTests() => File.WriteAllText(Path.Combine(_site.FullName, "index.html"), "Hello, World!");

    public void Dispose() => _site.Delete(recursive: true);

    [Fact]
    public void Access_log_to_a_file_in_json_gets_one_object_per_request_and_nothing_on_stdout()
    {
        string log = Path.Combine(_site.FullName, "logs.json");
        using var serve = ToolProcess.Start("serve", _site.FullName, "--port", "0", "--loops", "2", "--access-log", log, "--log-format", "json");
        var url = serve.WaitListening();
        Assert.Equal(200, ServerTests.Curl(new Uri(url, "/index.html")).Status);
        Assert.Equal(404, ServerTests.Curl(new Uri(url, "/missing")).Status);
        serve.Terminate();
        Assert.Equal(0, serve.WaitForExit());

        var lines = File.ReadAllLines(log);
        Assert.Equal(2, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal("/index.html", first.RootElement.GetProperty("target").GetString());
        Assert.Equal(200, first.RootElement.GetProperty("status").GetInt32());
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal(404, second.RootElement.GetProperty("status").GetInt32());
        Assert.DoesNotContain("/index.html", serve.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_log_path_that_cannot_be_opened_is_one_plain_line_and_exit_code_1()
    {
        var (code, stdout, stderr) = ToolProcess.Run("serve", _site.FullName, "--port", "0", "--access-log", "/nonexistent-dir/access.log");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("meanwhile: cannot open the access log /nonexistent-dir/access.log: ", line);
    }

    [Fact]
    public void An_unknown_log_format_names_the_three_formats()
    {
        var (code, _, stderr) = ToolProcess.Run("serve", _site.FullName, "--log-format", "xml");
        Assert.Equal(2, code);
        Assert.Contains("--log-format takes common, combined or json, not 'xml'.", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Quiet_logs_nothing()
    {
        using var serve = ToolProcess.Start("serve", _site.FullName, "--port", "0", "--loops", "1", "-q");
        var url = serve.WaitListening();
        Assert.Equal(200, ServerTests.Curl(new Uri(url, "/index.html")).Status);
        serve.Terminate();
        Assert.Equal(0, serve.WaitForExit());
        Assert.StartsWith("listening on", Assert.Single(serve.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))); // no access log line
    }
}
