// A crawler on one loop: workers take URLs from a bounded LoopQueue, fetch each page with LoopHttpClient under a
// timeout, and hand the links they find to the frontier; JoinAsync says when every page found was crawled. The site is
// made here (PAGES linked pages) and served by StaticFiles on the same loop.
//
//   dotnet run --project examples/Crawler -- [PAGES] [WORKERS]      (1000 and 16 by default)
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Meanwhile;
using Meanwhile.Http.Client;
using Meanwhile.Http.Server;

int pages = args.Length > 0 ? int.Parse(args[0]) : 1000, workers = args.Length > 1 ? int.Parse(args[1]) : 16;
var site = Directory.CreateTempSubdirectory("crawler-site-");
for (int i = 0; i < pages; i++) // page i links to three others; the i + 1 chain reaches them all from the index
{
    var links = new[] { i + 1, i * 3 + 1, i * 7 + 3 }.Select(n => n % pages == 0 ? "/" : $"/p{n % pages}.html");
    File.WriteAllText(Path.Combine(site.FullName, i == 0 ? "index.html" : $"p{i}.html"),
        $"<h1>Page {i}</h1>" + string.Concat(links.Select(href => $"<a href=\"{href}\">{href}</a> ")));
}

int crawled = 0, failed = 0;
var clock = Stopwatch.StartNew();
EventLoop.Run(async () =>
{
    var loop = EventLoop.Current;
    using var stop = new CancellationTokenSource();
    var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
    var server = loop.Spawn(() => HttpServer.ServeAsync(listener, new StaticFiles(site.FullName).HandleAsync, stopping: stop.Token), "server");
    var root = new Uri($"http://127.0.0.1:{listener.Port}/");
    await using var client = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = workers });

    var frontier = new LoopQueue<Uri>(name: "frontier");              // every URL found, once
    var urls = new LoopQueue<Uri>(capacity: workers, name: "urls");   // what the workers take: bounded
    var seen = new HashSet<Uri> { root };
    await frontier.PutAsync(root);
    var feeder = loop.Spawn(async () => { await foreach (var url in frontier) await urls.PutAsync(url); }, "feeder");
    var crawlers = Enumerable.Range(0, workers).Select(n => loop.Spawn(async () =>
    {
        await foreach (var url in urls)
        {
            try
            {
                string html = await loop.WithTimeout(TimeSpan.FromSeconds(10), token => client.GetStringAsync(url, token));
                crawled++;
                foreach (Match link in Regex.Matches(html, "href=\"([^\"]+)\""))
                {
                    var found = new Uri(url, link.Groups[1].Value);
                    if (seen.Add(found)) frontier.TryPut(found); // unbounded: a worker never waits on itself here
                }
            }
            catch (Exception e) when (e is TimeoutException or LoopHttpException)
            {
                failed++;
                Console.Error.WriteLine($"{url}: {e.Message}");
            }
            frontier.TaskDone(); // this URL is done with, links and all
        }
    }, $"crawler {n}")).ToList();

    await frontier.JoinAsync(); // every URL found has been crawled (or failed)
    frontier.Shutdown();
    urls.Shutdown();
    await loop.WhenAll(crawlers.Select(c => c.AsTask()).Append(feeder));
    await stop.CancelAsync();
    await server;
});
site.Delete(recursive: true);
Console.WriteLine($"crawled {crawled} pages ({failed} failed) with {workers} workers in {clock.ElapsedMilliseconds} ms");
return failed == 0 && crawled == pages ? 0 : 1;
