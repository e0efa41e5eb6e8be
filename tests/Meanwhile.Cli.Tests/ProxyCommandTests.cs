using System.Text.Json;

namespace Meanwhile.Cli.Tests;

/// <summary><c>meanwhile proxy</c> in front of <c>meanwhile echo</c>: curl's requests reach it, logged as serve logs them; bad upstreams are refused in one line.</summary>
public sealed class ProxyCommandTests
{
    [Fact]
    public void Proxy_forwards_to_two_upstreams_in_turn_logs_each_request_and_stops_on_sigterm()
    {
        using var first = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "--quiet");
        using var second = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "--quiet");
        var upstreams = new[] { first.WaitListening(), second.WaitListening() };
        using var proxy = ToolProcess.Start("proxy", "--to", upstreams[0].ToString(), "--to", upstreams[1].ToString(), "--port", "0", "--loops", "1");
        var url = proxy.WaitListening();

        var hosts = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            var (status, body) = ServerTests.Curl(new Uri(url, "/quote?symbol=ACME"));
            Assert.Equal(200, status);
            using var echo = JsonDocument.Parse(body);
            Assert.Equal("/quote?symbol=ACME", echo.RootElement.GetProperty("target").GetString());
            string text = echo.RootElement.GetProperty("headers").ToString();
            Assert.Contains("1.1 meanwhile", text, StringComparison.Ordinal);
            Assert.Contains("X-Forwarded-For", text, StringComparison.OrdinalIgnoreCase);
            hosts.Add(text);
        }

        // The Host each upstream saw is its own authority: round robin took each in turn.
        Assert.Contains(hosts, h => h.Contains($"\"127.0.0.1:{upstreams[0].Port}\"", StringComparison.Ordinal));
        Assert.Contains(hosts, h => h.Contains($"\"127.0.0.1:{upstreams[1].Port}\"", StringComparison.Ordinal));

        proxy.Terminate();
        Assert.Equal(0, proxy.WaitForExit());
        Assert.Contains("\"GET /quote?symbol=ACME HTTP/1.1\" 200 ", proxy.Stdout); // serve's access log (combined)
        Assert.Contains("proxy to http://", proxy.Stdout);
    }

    [Fact]
    public void A_WebSocket_through_the_proxy_reaches_the_echo_with_the_upstream_choice_of_compression()
    {
        using var echo = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "--quiet");
        var upstream = echo.WaitListening();
        using var proxy = ToolProcess.Start("proxy", "--to", upstream.ToString(), "--port", "0", "--loops", "1", "--tunnel-timeout", "30s");
        var url = proxy.WaitListening();
        using var python = PeerProcess.Start("/usr/bin/python3", "-c", $$"""
            import asyncio, websockets
            async def main():
                async with websockets.connect('ws://{{url.Authority}}/chat', max_size=None) as ws:
                    print(ws.response_headers['Sec-WebSocket-Extensions'], ws.response_headers['Via'])
                    await ws.send('through the tunnel ' * 200000)
                    print(len(await ws.recv()))
            asyncio.run(main())
            """);
        Assert.True(python.WaitForExit(TimeSpan.FromSeconds(60)) == 0, python.Transcript);
        var stdout = python.Transcript.Split('\n').Where(l => l.StartsWith("[out] ", StringComparison.Ordinal)).Select(l => l[6..]);
        Assert.Equal(["permessage-deflate; server_no_context_takeover 1.1 meanwhile", "3800000"], stdout);

        proxy.Terminate();
        Assert.Equal(0, proxy.WaitForExit());
        Assert.Contains("\"GET /chat HTTP/1.1\" 101 ", proxy.Stdout); // the access log has the switch
    }

    [Fact]
    public void An_upstream_that_is_not_an_http_url_is_refused_in_one_line_with_exit_code_2()
    {
        var (code, _, stderr) = ToolProcess.Run("proxy", "--to", "ftp://files.example", "--port", "0");
        Assert.Equal(2, code);
        Assert.Contains("--to takes an upstream such as http://127.0.0.1:8080, not 'ftp://files.example'.", stderr, StringComparison.Ordinal);

        (code, _, stderr) = ToolProcess.Run("proxy", "--port", "0");
        Assert.Equal(2, code);
        Assert.Contains("--to", stderr, StringComparison.Ordinal);
    }
}
