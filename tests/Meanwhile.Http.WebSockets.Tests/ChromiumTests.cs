using System.Collections.Concurrent;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.WebSockets.Tests;

/// <summary>Headless Chromium opens a WebSocket from a page that StaticFiles served, on the same server and port.</summary>
public sealed class ChromiumTests : IDisposable
{
    private readonly DirectoryInfo _site = Directory.CreateTempSubdirectory("meanwhile-ws-site-");

    public void Dispose() => _site.Delete(recursive: true);

    [Fact]
    public async Task A_page_served_by_StaticFiles_opens_a_WebSocket_and_shows_the_echo()
    {
        Assert.True(PeerProcess.IsInstalled("chromium"), "chromium is not installed (./test.sh installs it)");
        File.WriteAllText(Path.Combine(_site.FullName, "index.html"), """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>ws</title></head><body>
            <p id="result">waiting</p>
            <script>
            const ws = new WebSocket('ws://' + location.host + '/ws', ['echo.v1']);
            ws.binaryType = 'arraybuffer';
            const seen = [];
            ws.onopen = () => { ws.send('héllo from chromium, '.repeat(60)); ws.send(new Uint8Array([1, 2, 3, 250])); };
            ws.onmessage = e => {
              seen.push(typeof e.data === 'string' ? 'text:' + e.data : 'binary:' + Array.from(new Uint8Array(e.data)).join(','));
              if (seen.length === 2) ws.close(1000, 'page done');
            };
            const report = text => { document.getElementById('result').textContent = text; fetch('/report?' + encodeURIComponent(text)); };
            ws.onclose = e => report(seen.join(' | ') + ' | protocol ' + ws.protocol + ' | close ' + e.code + ' ' + e.wasClean);
            ws.onerror = () => report('error');
            </script>
            <!-- The server answers this image once the page has reported, so the load event (and the DOM dump) waits for the WebSocket. -->
            <img src="/after" alt="">
            </body></html>
            """);
        var closes = new ConcurrentQueue<WebSocketCloseCode?>();
        var extensions = new ConcurrentQueue<string?>();
        var files = new StaticFiles(_site.FullName);
        var router = new Router().MapWebSocket("/ws", async socket =>
        {
            extensions.Enqueue(socket.Extensions);
            await Echo.RunAsync(socket);
            closes.Enqueue(socket.CloseCode);
        }, new LoopWebSocketOptions { SubProtocols = ["echo.v1"] });
        var reported = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        router.MapGet("/report", (request, response) =>
        {
            reported.TrySetResult(Uri.UnescapeDataString(System.Text.Encoding.UTF8.GetString(request.Query)));
            response.StatusCode = 204;
            return ValueTask.CompletedTask;
        });
        router.MapGet("/after", async (request, response) =>
        {
            await reported.Task.WaitAsync(TimeSpan.FromSeconds(60));
            response.StatusCode = 204;
        });
        router.NotFound = files.HandleAsync;
        await using var server = await WsServer.StartAsync(router.HandleAsync);

        string profile = Path.Combine(_site.FullName, "profile");
        var (code, dom, stderr) = PeerOutput.Of(PeerProcess.Start("chromium",
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={profile}",
            "--dump-dom", $"http://127.0.0.1:{server.Port}/index.html"));
        Assert.True(code == 0, $"chromium failed ({code}): {stderr}");
        // The text is long enough (1.3 KB) for the echo to go compressed too.
        string expected = "text:" + string.Concat(Enumerable.Repeat("héllo from chromium, ", 60)) + " | binary:1,2,3,250 | protocol echo.v1 | close 1000 true";
        Assert.Equal(expected, await reported.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketCloseCode.NormalClosure, Assert.Single(closes));
        Assert.Equal("permessage-deflate; server_no_context_takeover", Assert.Single(extensions)); // browsers always offer it
        int at = dom.IndexOf("<p id=\"result\">", StringComparison.Ordinal);
        string result = at < 0 ? dom : dom[at..dom.IndexOf("</p>", at, StringComparison.Ordinal)];
        Assert.Equal("<p id=\"result\">" + expected, result);
    }
}
