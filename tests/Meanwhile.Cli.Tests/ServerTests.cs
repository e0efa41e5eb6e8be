using System.Diagnostics;
using System.Text.Json;

namespace Meanwhile.Cli.Tests;

public sealed class ServerTests
{
    [Fact]
    public void Serve_without_a_directory_serves_the_sample_site_to_curl_and_stops_on_sigterm()
    {
        using var serve = ToolProcess.Start("serve", "--port", "0", "--loops", "2");
        var url = serve.WaitListening();
        var (status, body) = Curl(new Uri(url, "/"));
        Assert.Equal(200, status);
        Assert.Contains("Served by Meanwhile", body);
        Assert.Equal(200, Curl(new Uri(url, "/style.css")).Status);
        Assert.Equal(404, Curl(new Uri(url, "/missing.html")).Status);

        serve.Terminate();
        Assert.Equal(0, serve.WaitForExit());
        Assert.Contains("\"GET /style.css HTTP/1.1\" 200 ", serve.Stdout); // the access log, nginx's combined format
        Assert.Contains("stopped", serve.Stderr);
    }

    [Fact]
    public void Serve_serves_a_directory()
    {
        var dir = Directory.CreateTempSubdirectory("meanwhile-serve-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "hello.txt"), "Hello from a directory");
            using var serve = ToolProcess.Start("serve", dir.FullName, "--port", "0", "--loops", "1");
            var url = serve.WaitListening();
            Assert.Equal((200, "Hello from a directory"), Curl(new Uri(url, "/hello.txt")));
            serve.Terminate();
            Assert.Equal(0, serve.WaitForExit());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Serve_lists_a_directory_without_an_index_only_with_listing(bool listing)
    {
        var dir = Directory.CreateTempSubdirectory("meanwhile-listing-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "notes.txt"), "notes");
            Directory.CreateDirectory(Path.Combine(dir.FullName, "photos"));
            string[] args = ["serve", dir.FullName, "--port", "0", "--loops", "1"];
            using var serve = ToolProcess.Start(listing ? [.. args, "--listing"] : args);
            var url = serve.WaitListening();
            var (status, body) = Curl(url);
            if (listing)
            {
                Assert.Equal(200, status);
                Assert.Contains("notes.txt", body, StringComparison.Ordinal);
                Assert.Contains("photos/", body, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(404, status);
                Assert.DoesNotContain("notes.txt", body, StringComparison.Ordinal);
            }
            Assert.Equal((200, "notes"), Curl(new Uri(url, "/notes.txt")));
            serve.Terminate();
            Assert.Equal(0, serve.WaitForExit());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Bench_against_echo_reports_rates_and_percentiles_in_json()
    {
        using var echo = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "--quiet");
        var url = echo.WaitListening();
        var (code, stdout, stderr) = ToolProcess.Run("bench", new Uri(url, "/bench").ToString(), "-c", "4", "-d", "1s", "--pipeline", "2", "--json");
        Assert.True(code == 0, stderr + stdout);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.True(root.GetProperty("requests").GetInt64() > 0, stdout);
        Assert.True(root.GetProperty("requests_per_s").GetDouble() > 0, stdout);
        Assert.True(root.GetProperty("bytes_per_s").GetDouble() > 0, stdout);
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        var latency = root.GetProperty("latency_us");
        double previous = 0;
        foreach (var name in new[] { "p50", "p90", "p99", "p99.9", "max" })
        {
            double value = latency.GetProperty(name).GetDouble();
            Assert.True(value > 0 && value >= previous, stdout);
            previous = value;
        }

        echo.Terminate();
        Assert.Equal(0, echo.WaitForExit());
        Assert.Contains("listening on http://127.0.0.1:", echo.Stdout);
    }

    [Fact]
    public void Echo_answers_with_the_parsed_request()
    {
        using var echo = ToolProcess.Start("echo", "--port", "0", "--loops", "1");
        var url = echo.WaitListening();
        var (status, body) = Curl(new Uri(url, "/hello?x=1"));
        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("/hello?x=1", json.RootElement.GetProperty("target").GetString());
        echo.Terminate();
        Assert.Equal(0, echo.WaitForExit());
    }

    internal static (int Status, string Body) Curl(Uri url)
    {
        var info = new ProcessStartInfo("curl", ["-s", "-m", "30", "-w", "\n%{http_code}", url.ToString()]) { RedirectStandardOutput = true };
        using var curl = Process.Start(info)!;
        string output = curl.StandardOutput.ReadToEnd();
        curl.WaitForExit();
        int cut = output.LastIndexOf('\n');
        return (int.Parse(output[(cut + 1)..], System.Globalization.CultureInfo.InvariantCulture), output[..cut]);
    }
}
