using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Meanwhile.Http.Proxy.Tests;

/// <summary>Requests and responses through the proxy between real peers: curl, wrk and Chromium in front; Node, Python's http.server and nginx behind.</summary>
public sealed class ForwardingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [ToolFact("node", "curl")]
    public async Task A_request_reaches_node_without_its_hop_by_hop_fields_and_with_the_forwarding_fields()
    {
        using var node = new NodeUpstream();
        await using var proxy = await RunningProxy.StartAsync(node.Uri);
        var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--fail",
            "-H", "Connection: keep-alive, X-Drop", "-H", "X-Drop: secret", "-H", "Keep-Alive: timeout=5", "-H", "TE: trailers",
            "-H", "Proxy-Connection: keep-alive", "-H", "X-Forwarded-For: 10.0.0.7", "-H", "X-Kept: yes",
            proxy.Url + "/headers?a=1"]);
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(body);
        var headers = json.RootElement.GetProperty("headers");
        Assert.Equal("/headers?a=1", json.RootElement.GetProperty("url").GetString());
        foreach (var dropped in new[] { "x-drop", "keep-alive", "te", "proxy-connection" })
            Assert.False(headers.TryGetProperty(dropped, out _), $"{dropped} reached the upstream");
        Assert.Equal("yes", headers.GetProperty("x-kept").GetString());
        Assert.Equal($"127.0.0.1:{node.Port}", headers.GetProperty("host").GetString());
        Assert.Equal("1.1 meanwhile", headers.GetProperty("via").GetString());
        Assert.Equal("10.0.0.7, 127.0.0.1", headers.GetProperty("x-forwarded-for").GetString());
        Assert.Equal("http", headers.GetProperty("x-forwarded-proto").GetString());
        Assert.Equal($"127.0.0.1:{proxy.Port}", headers.GetProperty("x-forwarded-host").GetString());
    }

    [ToolFact("node", "curl")]
    public async Task The_clients_host_is_kept_and_forwarding_fields_left_out_when_so_configured()
    {
        using var node = new NodeUpstream();
        await using var proxy = await RunningProxy.StartAsync(new ProxyOptions { Upstreams = [node.Uri], PreserveHost = true, ForwardedHeaders = ForwardedHeaders.None });
        var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", "-H", "Host: shop.example", proxy.Url + "/headers"]);
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(body);
        var headers = json.RootElement.GetProperty("headers");
        Assert.Equal("shop.example", headers.GetProperty("host").GetString());
        Assert.False(headers.TryGetProperty("via", out _));
        Assert.False(headers.TryGetProperty("x-forwarded-for", out _));
    }

    [ToolFact("node", "curl")]
    public async Task Response_fields_named_in_connection_stop_at_the_proxy_and_the_rest_pass()
    {
        using var node = new NodeUpstream();
        await using var proxy = await RunningProxy.StartAsync(node.Uri);
        var (code, head, stderr) = Tool.RunBytes("curl", ["-sS", "-D", "-", "-o", "/dev/null", proxy.Url + "/connection-option"]);
        Assert.True(code == 0, stderr);
        string text = Encoding.ASCII.GetString(head);
        Assert.Contains("X-End: kept", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("X-Hop", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Via: 1.1 meanwhile", text, StringComparison.Ordinal);
    }

    [ToolFact("node", "curl")]
    public async Task Response_fields_pass_whatever_their_spacing_and_in_order_around_the_ones_that_stop()
    {
        using var node = new NodeUpstream();
        await using var proxy = await RunningProxy.StartAsync(node.Uri);
        var (code, head, stderr) = Tool.RunBytes("curl", ["-sS", "-D", "-", "-o", "/dev/null", proxy.Url + "/odd-spacing"]);
        Assert.True(code == 0, stderr);
        string text = Encoding.ASCII.GetString(head);
        Assert.Contains("\r\nX-A: spaced\r\nX-B: b\r\nX-C: c\r\nX-E: e\r\nX-D: d\r\nX-F: \r\nX-G: g\r\nVia: 1.1 meanwhile\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("upstream", text, StringComparison.Ordinal);
        Assert.Contains("Content-Length: 2\r\n", text, StringComparison.Ordinal);
    }

    [ToolFact("node", "curl")]
    public async Task A_one_mebibyte_download_and_a_chunked_upload_stream_through_unchanged()
    {
        using var node = new NodeUpstream();
        await using var proxy = await RunningProxy.StartAsync(node.Uri);
        var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", proxy.Url + "/big"]);
        Assert.True(code == 0, stderr);
        Assert.Equal(SHA256.HashData(NodeUpstream.Big()), SHA256.HashData(body));

        var upload = new byte[3 << 20];
        new Random(21).NextBytes(upload);
        File.WriteAllBytes(_dir["upload.bin"], upload);
        (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + _dir["upload.bin"], proxy.Url + "/echo"]);
        Assert.True(code == 0, stderr);
        Assert.Equal(SHA256.HashData(upload), SHA256.HashData(body));

        (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", "--data-binary", "@" + _dir["upload.bin"], proxy.Url + "/echo"]);
        Assert.True(code == 0, stderr);
        Assert.Equal(SHA256.HashData(upload), SHA256.HashData(body));

        (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", proxy.Url + "/chunked"]);
        Assert.True(code == 0, stderr);
        Assert.Equal("one,two,three", Encoding.ASCII.GetString(body));
    }

    [ToolFact("node", "curl")]
    public async Task Sequential_requests_reuse_one_kept_alive_upstream_connection()
    {
        using var node = new NodeUpstream();
        await using var proxy = await RunningProxy.StartAsync(node.Uri);
        var urls = Enumerable.Repeat(proxy.Url + "/hello", 20).ToList();
        var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", .. urls]);
        Assert.True(code == 0, stderr);
        Assert.Equal(string.Concat(Enumerable.Repeat("Hello, World!", 20)), Encoding.ASCII.GetString(body));
        (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", proxy.Url + "/stats"]);
        Assert.True(code == 0, stderr);
        Assert.Equal("""{"connections":1}""", Encoding.ASCII.GetString(body));
    }

    [ToolFact("python3", "curl")]
    public async Task Python_http_server_answers_through_the_proxy_on_connections_it_closes()
    {
        File.WriteAllText(_dir["page.txt"], "from python\n");
        var (python, port) = PeerProcess.Start("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", _dir.Path], @"port (\d+)");
        using var _ = python;
        await using var proxy = await RunningProxy.StartAsync(new Uri($"http://127.0.0.1:{port}"));
        // HTTP/1.0 responses that end with the close: each request needs a new upstream connection.
        var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", proxy.Url + "/page.txt", proxy.Url + "/page.txt", proxy.Url + "/page.txt"]);
        Assert.True(code == 0, stderr);
        Assert.Equal("from python\nfrom python\nfrom python\n", Encoding.ASCII.GetString(body));
        (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", proxy.Url + "/missing"]);
        Assert.True(code == 0, stderr);
        Assert.Equal("404", Encoding.ASCII.GetString(body));
    }

    [ToolFact("nginx", "chromium")]
    public async Task Chromium_loads_a_page_and_its_assets_from_nginx_through_the_proxy()
    {
        using var nginx = NginxUpstream.Start(_dir, out var assets);
        await using var proxy = await RunningProxy.StartAsync(nginx.Uri);
        var (code, dom, stderr) = Tool.RunBytes("chromium",
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={_dir["chromium-profile"]}", "--virtual-time-budget=10000",
            "--dump-dom", proxy.Url + "/",
        ], timeoutSeconds: 120);
        Assert.True(code == 0, $"chromium failed ({code}): {stderr}");
        Assert.Contains($"<p id=\"result\">loaded: {assets} failed: 0</p>", Encoding.UTF8.GetString(dom));
    }

    [ToolFact("nginx", "wrk")]
    public async Task Wrk_through_the_proxy_to_nginx_gets_only_successes()
    {
        using var nginx = NginxUpstream.Start(_dir, out _);
        await using var proxy = await RunningProxy.StartAsync(new ProxyOptions { Upstreams = [nginx.Uri] }, loops: 2);
        var (code, output, stderr) = Tool.RunBytes("wrk", ["-t1", "-c16", "-d1s", proxy.Url + "/hello.txt"]);
        string text = Encoding.ASCII.GetString(output);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"\d+ requests in", text);
        Assert.DoesNotContain("Non-2xx", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Socket errors", text, StringComparison.Ordinal);
    }
}
