using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>Real clients: curl, Python's http.client and urllib, Node's fetch, wrk.</summary>
public sealed class ClientTests
{
    [ToolFact("curl")]
    public async Task CurlReusesTheConnectionForTwoUrls()
    {
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync);
        var (code, stdout, stderr) = Tool.Run("curl", ["-sv", $"http://127.0.0.1:{server.Port}/one", $"http://127.0.0.1:{server.Port}/two"]);
        Assert.Equal(0, code);
        Assert.Contains("\"target\":\"/one\"", stdout);
        Assert.Contains("\"target\":\"/two\"", stdout);
        Assert.Contains("Re-using existing connection", stderr);
    }

    [ToolFact("curl")]
    public async Task CurlChunkedUpload()
    {
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync);
        string payload = string.Concat(Enumerable.Repeat("chunked upload body ", 5000));
        var (code, stdout, stderr) = Tool.Run("curl", ["-s", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-", $"http://127.0.0.1:{server.Port}/up"], stdin: payload);
        Assert.True(code == 0, stderr);
        Assert.Contains("[\"Transfer-Encoding\",\"chunked\"]", stdout);
        Assert.Contains(Convert.ToBase64String(Encoding.ASCII.GetBytes(payload)), stdout);
    }

    [ToolFact("curl")]
    public async Task CurlHeadGetsTheLengthButNoBody()
    {
        await using var server = await TestServer.StartAsync(Handlers.Hello);
        var (code, stdout, _) = Tool.Run("curl", ["-s", "-I", $"http://127.0.0.1:{server.Port}/"]);
        Assert.Equal(0, code);
        Assert.StartsWith("HTTP/1.1 200 OK", stdout);
        Assert.Contains("Content-Length: 13", stdout);
        Assert.DoesNotContain("Hello", stdout);
    }

    [ToolFact("curl")]
    public async Task CurlExpectContinueGetsA100()
    {
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync);
        var (code, stdout, stderr) = Tool.Run("curl", ["-sv", "-H", "Expect: 100-continue", "--expect100-timeout", "30", "--data-binary", "@-", $"http://127.0.0.1:{server.Port}/c"], stdin: "abc");
        Assert.True(code == 0, stderr);
        Assert.Contains("HTTP/1.1 100 Continue", stderr);
        Assert.Contains(Convert.ToBase64String("abc"u8.ToArray()), stdout);
    }

    [ToolFact("python3")]
    public async Task PythonHttpClientAndUrllib()
    {
        await using var server = await TestServer.StartAsync(new Router()
            .MapGet("/users/{id}", (request, response) =>
            {
                response.AddHeader("Content-Type", "text/plain");
                response.Write(Encoding.UTF8.GetBytes($"user {request.GetRouteValue("id")}"));
                return ValueTask.CompletedTask;
            })
            .MapPost("/echo", EchoHandler.HandleAsync).HandleAsync);
        string script = $$"""
            import http.client, urllib.request, json
            c = http.client.HTTPConnection("127.0.0.1", {{server.Port}}, timeout=10)
            for i in range(3):
                c.request("GET", f"/users/{i}")
                r = c.getresponse()
                assert r.status == 200 and r.read() == f"user {i}".encode(), i
            c.request("POST", "/echo", body=b"x" * 100000, headers={"Content-Type": "application/octet-stream"})
            r = c.getresponse()
            body = json.loads(r.read())
            assert body["method"] == "POST" and len(body["body_base64"]) > 100000
            c.request("DELETE", "/users/1")
            r = c.getresponse(); r.read()
            assert r.status == 405 and "GET" in r.getheader("Allow"), r.status
            with urllib.request.urlopen(f"http://127.0.0.1:{{server.Port}}/users/%C3%A9") as u:
                assert u.read().decode() == "user \u00e9"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{{server.Port}}/nowhere")
                raise SystemExit("expected 404")
            except urllib.error.HTTPError as e:
                assert e.code == 404
            print("ok")
            """;
        var (code, stdout, stderr) = Tool.Run("python3", ["-c", script]);
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal("ok", stdout.Trim());
    }

    [ToolFact("node")]
    public async Task NodeFetch()
    {
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            if (request.MethodIs("POST"u8))
            {
                await EchoHandler.HandleAsync(request, response);
                return;
            }
            // A streamed body: flushed in pieces, so it goes out chunked.
            response.AddHeader("Content-Type", "text/plain");
            for (int i = 0; i < 100; i++)
            {
                await response.WriteAsync(Encoding.ASCII.GetBytes($"line {i}\n"));
                if (i % 10 == 0) await response.FlushAsync();
            }
        });
        string script = $$"""
            const base = "http://127.0.0.1:{{server.Port}}";
            const r = await fetch(base + "/stream");
            const text = await r.text();
            if (r.headers.get("transfer-encoding") !== "chunked") throw new Error("not chunked: " + [...r.headers]);
            if (!text.startsWith("line 0\n") || !text.endsWith("line 99\n")) throw new Error(text);
            const p = await fetch(base + "/p", { method: "POST", body: "hello node" });
            const j = await p.json();
            if (Buffer.from(j.body_base64, "base64").toString() !== "hello node") throw new Error(JSON.stringify(j));
            console.log("ok");
            """;
        var (code, stdout, stderr) = Tool.Run("node", ["--input-type=module", "-e", script]);
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal("ok", stdout.Trim());
    }

    [ToolFact("wrk")]
    public async Task ShortWrkRunHasRequestsAndNoErrors()
    {
        await using var server = await TestServer.StartAsync(Handlers.Hello, loops: 2);
        var (code, stdout, stderr) = Tool.Run("wrk", ["-t1", "-c16", "-d2s", $"http://127.0.0.1:{server.Port}/"]);
        Assert.True(code == 0, stdout + stderr);
        var requests = System.Text.RegularExpressions.Regex.Match(stdout, @"(\d+) requests in");
        Assert.True(requests.Success && long.Parse(requests.Groups[1].Value) > 0, stdout);
        Assert.DoesNotContain("Socket errors", stdout);
        Assert.DoesNotContain("Non-2xx", stdout);
    }
}
