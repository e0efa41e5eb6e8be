using System.Diagnostics;
using Meanwhile.Http.Client;

namespace Meanwhile.Examples.SeedIO;

/// <summary>The browser of the seed's diagram: connect, send the request, wait, receive the response — for several pages.</summary>
internal static class Browser
{
    public static async Task RunAsync(Uri server, int pages)
    {
        var loop = EventLoop.Current;
        await using var browser = new LoopHttpClient(new LoopHttpClientOptions { MaxConnectionsPerOrigin = pages });

        // One link after the other: each click waits for its page before the next.
        var watch = Stopwatch.StartNew();
        for (int i = 1; i <= pages; i++) await ShowAsync(browser, new Uri(server, $"page/{i}"));
        Console.WriteLine($"{pages} pages one after the other: {watch.ElapsedMilliseconds} ms");

        // All links at once: while each request waits for its server, the loop sends the others.
        watch.Restart();
        await loop.WhenAll(Enumerable.Range(1, pages).Select(i => (Task)loop.Spawn(() => ShowAsync(browser, new Uri(server, $"page/{i}")))));
        Console.WriteLine($"{pages} pages all at once: {watch.ElapsedMilliseconds} ms");
    }

    private static async Task ShowAsync(LoopHttpClient browser, Uri page)
    {
        string html = await browser.GetStringAsync(page); // [connexion] [envoi de la requête] . . . [réception de la réponse]
        Console.WriteLine($"  {page.AbsolutePath}: {html}");   // [affichage de la page]
    }
}
