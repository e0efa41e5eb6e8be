using System.Text;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c> package) loads a generated page with 24 resources from the static
/// server; the page counts each resource's load event into the DOM, which <c>--dump-dom</c> prints.
/// </summary>
public sealed class ChromiumTests : IDisposable
{
    private const int SvgImages = 8, PngImages = 4, StyleSheets = 6, Scripts = 6;
    private const int Resources = SvgImages + PngImages + StyleSheets + Scripts;
    private readonly StaticSite _site = new();

    public void Dispose() => _site.Dispose();

    [ToolTheory("chromium")]
    [MemberData(nameof(StaticFileTests.Reactors), MemberType = typeof(StaticFileTests))]
    public async Task ChromiumLoadsEveryResourceOfAPage(ReactorKind reactor)
    {
        var resources = WriteSite();
        await using var server = await CountingServer.StartAsync(new StaticFiles(_site.Root).HandleAsync, reactor);

        string profile = Path.Combine(_site.Base, "chromium-profile");
        var (code, dom, stderr) = Tool.Run("chromium",
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={profile}",
            // Virtual time runs the page until its network and timers are idle (or 10 s of page time pass), so the
            // dump shows the page after every load event, without a wall-clock wait.
            "--virtual-time-budget=10000",
            "--dump-dom", server.Url + "/",
        ], timeoutSeconds: 120);
        Assert.True(code == 0, $"chromium failed ({code}): {stderr}");
        Assert.Contains($"<p id=\"result\">loaded: {Resources} failed: 0</p>", dom);
        Assert.Contains("<p id=\"done\">window loaded</p>", dom);

        Assert.True(server.Counts.ContainsKey("/"), "the page itself was requested");
        foreach (var path in resources)
            Assert.True(server.Counts.TryGetValue(path, out int n) && n >= 1, $"{path} was never requested; requests: {string.Join(", ", server.Counts.Keys)}");
    }

    /// <summary>Writes index.html and its resources; returns the resources' request paths.</summary>
    private List<string> WriteSite()
    {
        var paths = new List<string>();
        var head = new StringBuilder();
        var body = new StringBuilder();
        for (int i = 0; i < StyleSheets; i++)
        {
            paths.Add($"/css/style{i}.css");
            _site.Write($"css/style{i}.css", $".box{i} {{ width: {10 + i}px; height: 10px; background: #{i * 30:x2}8040; }}\n");
            head.Append($"<link rel=\"stylesheet\" href=\"css/style{i}.css\" onload=\"mark()\" onerror=\"fail()\">\n");
        }
        for (int i = 0; i < SvgImages; i++)
        {
            paths.Add($"/img/shape{i}.svg");
            _site.Write($"img/shape{i}.svg",
                $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" height=\"20\"><circle cx=\"10\" cy=\"10\" r=\"{3 + i}\" fill=\"#{i * 25:x2}4080\"/></svg>");
            body.Append($"<img src=\"img/shape{i}.svg\" alt=\"svg {i}\" onload=\"mark()\" onerror=\"fail()\">\n");
        }
        for (int i = 0; i < PngImages; i++)
        {
            // onload fires only for an image the browser could decode: the hand-written PNGs are checked too.
            paths.Add($"/img/pixel{i}.png");
            _site.Write($"img/pixel{i}.png", Png.Solid(4 + i, (byte)(i * 60), 128, 200));
            body.Append($"<img src=\"img/pixel{i}.png\" alt=\"png {i}\" onload=\"mark()\" onerror=\"fail()\">\n");
        }
        for (int i = 0; i < Scripts; i++)
        {
            paths.Add($"/js/part{i}.js");
            _site.Write($"js/part{i}.js", $"// part {i}\nmark();\n");
            body.Append($"<script src=\"js/part{i}.js\" onerror=\"fail()\"></script>\n");
        }
        _site.Write("index.html", $$"""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>twenty-four resources</title>
            <script>
            var loaded = 0, failed = 0;
            function show() { document.getElementById("result").textContent = "loaded: " + loaded + " failed: " + failed; }
            function mark() { loaded++; if (document.getElementById("result")) show(); }
            function fail() { failed++; if (document.getElementById("result")) show(); }
            window.addEventListener("load", function () { show(); document.getElementById("done").textContent = "window loaded"; });
            </script>
            {{head}}</head>
            <body><p id="result">loading</p><p id="done">waiting</p>
            {{body}}</body></html>
            """);
        return paths;
    }
}
