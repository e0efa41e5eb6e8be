using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Meanwhile.Http.Client;
using Meanwhile.Http.Server;

namespace Meanwhile.Cli;

/// <summary>What the demo asks for: how many pages, how long each takes the server, how many at once.</summary>
internal sealed record DemoSettings(int Pages, TimeSpan Wait, int Concurrency);

/// <summary>What a demo run measured, with the loop's recording of the concurrent part.</summary>
internal sealed record DemoResult(DemoSettings Settings, TimeSpan Sequential, TimeSpan Concurrent, IReadOnlyList<LoopEvent> Events, string Reactor)
{
    /// <summary>How many times faster the concurrent run was.</summary>
    public double SpeedUp => Sequential / Concurrent;
}

/// <summary>
/// The seed chapter's example, for real, on one event loop: a web server whose pages each take a while to build
/// (a loop timer standing in for a database), and a browser that fetches them one after the other, then all at
/// once. Server and browser share the loop, so one recording holds both sides of every exchange.
/// </summary>
internal static class DemoRun
{
    /// <summary>The mark the demo's page handler records (followed by the page number) before building a page.</summary>
    public const string BuildPageMark = "demo.build-page ";

    /// <summary>The name of the browser task that fetches a page (followed by the page number).</summary>
    public const string PageTaskName = "page ";

    /// <summary>Runs the demo on a new loop on this thread.</summary>
    /// <param name="settings">Pages, wait, concurrency.</param>
    /// <param name="progress">Told on the loop thread: (phase, pages done).</param>
    public static DemoResult Run(DemoSettings settings, Action<string, int>? progress = null) =>
        EventLoop.Run(() => RunOnLoopAsync(settings, progress));

    private static async Task<DemoResult> RunOnLoopAsync(DemoSettings settings, Action<string, int>? progress)
    {
        var loop = EventLoop.Current;
        var router = new Router().MapGet("/page/{n}", async (request, response) =>
        {
            string page = request.GetRouteValue("n") ?? "?";
            if (loop.Recorder.IsEnabled) loop.Recorder.Mark(BuildPageMark + page);
            await loop.Delay(settings.Wait); // the server's own wait: a database, a disk, another service
            response.AddHeader("Content-Type", "text/html; charset=utf-8");
            response.Write(Encoding.UTF8.GetBytes($"<!doctype html><title>Page {page}</title><h1>Page {page}</h1><p>Built in {settings.Wait.TotalMilliseconds:0} ms.</p>\n"));
        });

        var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
        var baseUri = new Uri($"http://127.0.0.1:{listener.Port}/");
        using var stopping = new CancellationTokenSource();
        var server = loop.Spawn(() => HttpServer.ServeAsync(listener, router.HandleAsync, new HttpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(2) }, stopping.Token), "web server");
        try
        {
            Uri PageUri(int page) => new(baseUri, string.Create(CultureInfo.InvariantCulture, $"page/{page}"));

            // One page first, untimed: the first request of a process pays for JIT compilation, which would flatter the speed-up.
            await using (var warmUp = new LoopHttpClient())
                await warmUp.GetBytesAsync(PageUri(0));

            // One after the other: each request waits for the previous response.
            var sequential = Stopwatch.StartNew();
            await using (var browser = new LoopHttpClient())
            {
                for (int page = 1; page <= settings.Pages; page++)
                {
                    await FetchAsync(browser, PageUri(page));
                    progress?.Invoke("one after the other", page);
                }
            }
            sequential.Stop();

            // All at once, recorded: while each request waits for its response, the loop sends the others.
            // A fresh browser, so every request opens its own connection as in the seed's diagram.
            TimeSpan concurrent;
            LoopEvent[] events;
            await using (var browser = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = settings.Concurrency }))
            {
                int done = 0;
                loop.Recorder.Clear();
                loop.Recorder.Start();
                var watch = Stopwatch.StartNew();
                var fetches = new List<Task>(settings.Pages);
                for (int page = 1; page <= settings.Pages; page++)
                {
                    var uri = PageUri(page);
                    fetches.Add(loop.Spawn(async () =>
                    {
                        await FetchAsync(browser, uri);
                        progress?.Invoke("all at once", ++done);
                    }, PageTaskName + page.ToString(CultureInfo.InvariantCulture)));
                }
                await loop.WhenAll(fetches);
                watch.Stop();
                loop.Recorder.Stop();
                concurrent = watch.Elapsed;
                events = [.. loop.Recorder.Events];
                loop.Recorder.Clear();
            }
            return new DemoResult(settings, sequential.Elapsed, concurrent, events, loop.ReactorName);
        }
        finally
        {
            await stopping.CancelAsync();
            await server;
        }
    }

    private static async Task FetchAsync(LoopHttpClient browser, Uri uri)
    {
        using var response = await browser.GetAsync(uri);
        await response.ReadAsBytesAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"The demo server answered {response.StatusCode} for {uri}.");
    }
}
