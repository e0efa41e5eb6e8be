using System.Diagnostics;
using System.Text.Json;

namespace Meanwhile.Cli.Tests;

/// <summary><c>bench</c> says why requests failed, speaks HTTPS, and counts bytes as wrk does.</summary>
public sealed class BenchTests(NginxFixture nginx) : IClassFixture<NginxFixture>
{
    [Fact]
    public void A_refused_port_ends_with_code_1_and_the_reason()
    {
        // Port 1 (tcpmux) has no listener here: every connect is refused at once.
        var (code, stdout, stderr) = ToolProcess.Run("bench", "http://127.0.0.1:1/", "-d", "1s", "-c", "2", "--json");
        Assert.True(code == 1, stderr + stdout);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(0, json.RootElement.GetProperty("requests").GetInt64());
        var refused = json.RootElement.GetProperty("errors_by_kind").GetProperty("refused");
        Assert.Equal(json.RootElement.GetProperty("errors").GetInt64(), refused.GetProperty("count").GetInt64());
        Assert.Contains("ECONNREFUSED", refused.GetProperty("first").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("meanwhile: every request failed (", stderr, StringComparison.Ordinal);
        Assert.Contains(" refused): ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_text_report_breaks_errors_down_by_kind_with_the_first_message()
    {
        var (code, stdout, stderr) = ToolProcess.Run("bench", "http://127.0.0.1:1/", "-d", "1s", "-c", "1");
        Assert.True(code == 1, stderr + stdout);
        Assert.Matches(@"│\s+refused\s+│\s+[\d,]+ │", stdout);
        Assert.Contains("first refused error: ConnectionRefused: connect failed for 127.0.0.1:1: ECONNREFUSED", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void An_https_url_is_loaded_with_insecure_and_fails_as_TLS_without_it()
    {
        var url = nginx.Https("/hello.txt").ToString(); // a certificate from a private CA the tool does not trust
        // A generous timeout: a cold process's first TLS handshake on a loaded machine can outlast wrk's 2 s default.
        var (code, stdout, stderr) = ToolProcess.Run("bench", url, "-d", "1s", "-c", "2", "--timeout", "30s", "--insecure", "--json");
        Assert.True(code == 0, stderr + stdout);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.True(json.RootElement.GetProperty("requests").GetInt64() > 0, stdout);
            Assert.Equal(0, json.RootElement.GetProperty("errors").GetInt64());
        }

        (code, stdout, stderr) = ToolProcess.Run("bench", url, "-d", "1s", "-c", "2", "--timeout", "30s", "--json");
        Assert.True(code == 1, stderr + stdout);
        using (var json = JsonDocument.Parse(stdout))
        {
            var tls = json.RootElement.GetProperty("errors_by_kind").GetProperty("tls");
            Assert.True(tls.GetProperty("count").GetInt64() > 0, stdout);
            Assert.StartsWith("Tls: ", tls.GetProperty("first").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Transfer_counts_whole_responses_head_included_as_wrk_does()
    {
        var site = Directory.CreateTempSubdirectory("meanwhile-bench-");
        try
        {
            File.WriteAllText(Path.Combine(site.FullName, "page.html"), new string('x', 1000));
            using var serve = ToolProcess.Start("serve", site.FullName, "--port", "0", "--loops", "1", "--quiet");
            var url = new Uri(serve.WaitListening(), "/page.html").ToString();
            var (code, stdout, stderr) = ToolProcess.Run("bench", url, "-d", "1s", "-c", "2", "--json");
            Assert.True(code == 0, stderr + stdout);
            using var json = JsonDocument.Parse(stdout);
            long requests = json.RootElement.GetProperty("requests").GetInt64();
            long bytes = json.RootElement.GetProperty("bytes").GetInt64();

            // Every response of this file has the same size on the wire: curl -i prints all of it, head and body.
            long wire = CurlWholeResponseBytes(url);
            Assert.True(wire > 1000, $"curl printed {wire} bytes");
            Assert.Equal(wire * requests, bytes);
            serve.Terminate();
            Assert.Equal(0, serve.WaitForExit());
        }
        finally
        {
            site.Delete(recursive: true);
        }
    }

    private static long CurlWholeResponseBytes(string url)
    {
        using var curl = Process.Start(new ProcessStartInfo("curl", ["-s", "-i", "-m", "30", url]) { RedirectStandardOutput = true })!;
        using var counted = new MemoryStream();
        curl.StandardOutput.BaseStream.CopyTo(counted);
        curl.WaitForExit();
        Assert.Equal(0, curl.ExitCode);
        return counted.Length;
    }
}
