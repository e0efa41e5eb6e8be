namespace Meanwhile.Cli.Tests;

/// <summary><c>meanwhile ws</c> against <c>meanwhile echo</c>: STDIN's lines there and back, exit codes from the close.</summary>
public sealed class WsTests
{
    [Fact]
    public void Lines_from_stdin_come_back_from_the_echo_one_per_line_and_the_close_exits_0()
    {
        using var echo = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "--quiet");
        var url = echo.WaitListening();
        // The shell pipes two lines into the tool ($0 is the tool, "$@" its arguments).
        using var ws = ToolProcess.StartWith(["sh", "-c", "printf 'one\\ntwo é\\r\\nthree' | \"$0\" \"$@\""], "ws", $"ws://{url.Authority}/chat");
        Assert.Equal(0, ws.WaitForExit());
        Assert.Equal("one\ntwo é\nthree\n", ws.Stdout.Replace("\r\n", "\n"));
    }

    [Fact]
    public void Over_tls_the_echo_takes_wss_and_the_tool_with_k_gets_its_lines_back()
    {
        using var echo = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "--quiet", "--tls-self-signed");
        var url = echo.WaitListening();
        using var ws = ToolProcess.StartWith(["sh", "-c", "printf 'secure one\\nsecure two' | \"$0\" \"$@\""], "ws", "-k", $"wss://{url.Authority}/any/path");
        Assert.Equal(0, ws.WaitForExit());
        Assert.Equal("secure one\nsecure two\n", ws.Stdout.Replace("\r\n", "\n"));
    }

    [Fact]
    public void The_echo_agrees_permessage_deflate_with_python_websockets_over_wss()
    {
        using var echo = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "--quiet", "--tls-self-signed");
        var url = echo.WaitListening();
        using var python = PeerProcess.Start("/usr/bin/python3", "-c", $$"""
            import asyncio, ssl, websockets
            async def main():
                context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
                async with websockets.connect('wss://{{url.Authority}}/x', ssl=context, max_size=None) as ws:
                    print(ws.response_headers['Sec-WebSocket-Extensions'])
                    await ws.send('deflate me ' * 100000)
                    print(len(await ws.recv()))
            asyncio.run(main())
            """);
        Assert.True(python.WaitForExit(TimeSpan.FromSeconds(60)) == 0, python.Transcript);
        var stdout = python.Transcript.Split('\n').Where(l => l.StartsWith("[out] ", StringComparison.Ordinal)).Select(l => l[6..]);
        Assert.Equal(["permessage-deflate; server_no_context_takeover", "1100000"], stdout);
    }

    [Fact]
    public void A_server_that_refuses_the_handshake_ends_the_tool_with_1_and_one_line()
    {
        using var serve = ToolProcess.Start("serve", "--port", "0", "--loops", "1");
        var url = serve.WaitListening();
        var (code, _, stderr) = ToolProcess.Run("ws", $"ws://{url.Authority}/");
        Assert.Equal(1, code);
        Assert.Contains("answered the WebSocket handshake with", stderr);
    }

    [Fact]
    public void An_http_url_is_a_bad_argument()
    {
        var (code, _, stderr) = ToolProcess.Run("ws", "http://127.0.0.1:1/");
        Assert.Equal(2, code);
        Assert.Contains("not a ws:// or wss:// URL", stderr);
    }
}
