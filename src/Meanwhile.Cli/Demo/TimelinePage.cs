using System.Globalization;
using System.Net;
using System.Text;

namespace Meanwhile.Cli;

/// <summary>
/// The concurrent run as one self-contained HTML page (inline CSS and SVG, nothing fetched): one lane per request,
/// its connect, its waiting time drawn as dots, and the server's work on it.
/// </summary>
internal static class TimelinePage
{
    private const int LaneHeight = 22;
    private const int LabelWidth = 90;
    private const int PlotWidth = 860;

    /// <summary>Writes the page for <paramref name="result"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, DemoResult result, Timeline timeline) =>
        File.WriteAllText(path, Render(result, timeline), new UTF8Encoding(false));

    /// <summary>The page's HTML.</summary>
    public static string Render(DemoResult result, Timeline timeline)
    {
        var c = CultureInfo.InvariantCulture;
        double end = Math.Max(1, timeline.End.TotalMilliseconds);
        double X(TimeSpan t) => LabelWidth + t.TotalMilliseconds / end * PlotWidth;
        int height = 40 + timeline.Lanes.Count * LaneHeight + 30;
        var svg = new StringBuilder();
        svg.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{LabelWidth + PlotWidth + 20}\" height=\"{height}\" role=\"img\" aria-label=\"timeline of {timeline.Lanes.Count} concurrent requests\">");
        svg.Append("<defs><pattern id=\"dots\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><circle cx=\"3\" cy=\"3\" r=\"1.2\" fill=\"#8a8f98\"/></pattern></defs>");
        // The time axis: a tick every round number of milliseconds, about ten of them.
        double step = NiceStep(end / 10);
        for (double t = 0; t <= end + 1e-9; t += step)
        {
            double x = LabelWidth + t / end * PlotWidth;
            svg.Append(c, $"<line x1=\"{x:0.0}\" y1=\"24\" x2=\"{x:0.0}\" y2=\"{height - 24}\" class=\"grid\"/>");
            svg.Append(c, $"<text x=\"{x:0.0}\" y=\"16\" class=\"tick\">{t:0.#} ms</text>");
        }
        int y = 32;
        foreach (var lane in timeline.Lanes)
        {
            string title = string.Create(c, $"page {lane.Page} (browser task #{lane.BrowserTask}, server task #{lane.ServerTask}): connect {lane.Connect.TotalMilliseconds:0.00} ms, request sent {lane.Sent.TotalMilliseconds:0.00} ms, response received {lane.Received.TotalMilliseconds:0.00} ms, waited {lane.Waiting.TotalMilliseconds:0.0} ms");
            svg.Append(c, $"<g><title>{WebUtility.HtmlEncode(title)}</title>");
            svg.Append(c, $"<text x=\"{LabelWidth - 8}\" y=\"{y + 14}\" class=\"lane\">page {lane.Page}</text>");
            Bar(svg, X(lane.Connect), X(lane.Sent), y + 3, "connect");
            Bar(svg, X(lane.Sent), X(lane.Received), y + 3, "wait");
            Bar(svg, X(lane.ServerReceived), X(lane.ServerSent), y + 15, "server");
            Bar(svg, X(lane.Received) - 1.5, X(lane.Received) + 1.5, y + 3, "received");
            svg.Append("</g>");
            y += LaneHeight;
        }
        svg.Append("</svg>");

        var s = result.Settings;
        var html = new StringBuilder();
        html.Append(c, $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>meanwhile demo: {{result.Settings.Pages}} pages at once</title>
            <style>
              body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; color: #1d2330; padding: 0 1rem; }
              h1 { font-size: 1.5rem; margin-bottom: .2rem; }
              .figures { display: flex; gap: 2rem; margin: 1rem 0; }
              .figures div { background: #f3f5f8; border-radius: 8px; padding: .6rem 1rem; }
              .figures b { display: block; font-size: 1.4rem; }
              .legend span { display: inline-block; width: 28px; height: 10px; margin: 0 .3rem 0 1rem; vertical-align: middle; }
              svg { margin-top: 1rem; }
              .grid { stroke: #e4e7ec; stroke-width: 1; }
              .tick { font-size: 11px; fill: #6b7280; text-anchor: middle; }
              .lane { font-size: 12px; fill: #374151; text-anchor: end; }
              .connect { fill: #3b82f6; }
              .wait { fill: url(#dots); stroke: #8a8f98; stroke-width: .5; }
              .server { fill: #f59e0b; }
              .received { fill: #059669; }
              code { background: #f3f5f8; padding: 0 .25rem; border-radius: 4px; }
            </style>
            </head>
            <body>
            <h1>{{s.Pages}} pages, all at once, on one thread</h1>
            <p>Each page takes the server {{s.Wait.TotalMilliseconds:0}} ms to build. A browser on a Meanwhile event loop fetched them
            one after the other, then all at once (at most {{s.Concurrency}} connections). This is the second run, drawn from the
            loop's own recording (<code>loop.Recorder</code>, {{result.Reactor}} reactor): one lane per request.</p>
            <div class="figures">
              <div>one after the other<b>{{Ms(result.Sequential)}}</b></div>
              <div>all at once<b>{{Ms(result.Concurrent)}}</b></div>
              <div>speed-up<b>{{result.SpeedUp:0.0}}×</b></div>
            </div>
            <p class="legend"><span class="connect" style="background:#3b82f6"></span>connect and send
            <span style="background:radial-gradient(#8a8f98 30%, transparent 35%) 0 0/6px 6px"></span>the browser waits
            <span style="background:#f59e0b"></span>the server builds the page (it waits too)
            <span style="background:#059669; width:6px"></span>response received</p>
            """);
        html.Append(svg).Append("""

            <p>The dots are the point of the seed chapter: an I/O is mostly waiting. While every request waits, the loop has
            nothing to run and sleeps in <code>epoll_wait</code>; the waits overlap, so the run lasts about as long as one of them.</p>
            </body>
            </html>

            """);
        return html.ToString();
    }

    private static void Bar(StringBuilder svg, double x1, double x2, int y, string cls) =>
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x1:0.00}\" y=\"{y}\" width=\"{Math.Max(1, x2 - x1):0.00}\" height=\"{(cls == "server" ? 4 : 10)}\" class=\"{cls}\"/>");

    private static double NiceStep(double rough)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(rough, 1e-3))));
        foreach (double m in new[] { 1, 2, 5, 10 })
            if (m * magnitude >= rough) return m * magnitude;
        return 10 * magnitude;
    }

    private static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0} ms");
}
