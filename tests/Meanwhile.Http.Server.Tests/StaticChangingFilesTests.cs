using System.Text;

namespace Meanwhile.Http.Server.Tests;

/// <summary>Files replaced while clients fetch them: every answer is one whole version, with its own length and validator.</summary>
public sealed class StaticChangingFilesTests : IDisposable
{
    private readonly StaticSite _site = new();

    public void Dispose() => _site.Dispose();

    /// <summary>Version <paramref name="k"/> of a file: its number first, a length of its own, both for a small and a large body.</summary>
    private static byte[] Version(int k, int baseLength) =>
        Encoding.ASCII.GetBytes($"v{k}:" + new string((char)('a' + k % 26), baseLength + k % 97 * 37));

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    public async Task Files_rewritten_and_renamed_while_64_clients_fetch_are_always_served_as_one_whole_version(int openFileCacheEntries)
    {
        (string Name, int BaseLength)[] files = [("small.txt", 1000), ("large.txt", 200_000)];
        foreach (var (name, length) in files) _site.Write(name, Version(0, length));
        // A short validity, so that the cache, when on, sees the files change during the test.
        var handler = new StaticFiles(_site.Root, new StaticFileOptions { OpenFileCacheEntries = openFileCacheEntries, OpenFileCacheValidity = TimeSpan.FromMilliseconds(20) });
        await using var server = await CountingServer.StartAsync(handler.HandleAsync);

        using var stop = new CancellationTokenSource();
        int written = 0;
        var writer = Task.Factory.StartNew(() =>
        {
            // A new version is written next to the file and renamed over it, as deployments and editors do.
            for (int k = 1; !stop.IsCancellationRequested; k++)
            {
                foreach (var (name, length) in files)
                {
                    string temporary = Path.Combine(_site.Root, $".{name}.tmp");
                    File.WriteAllBytes(temporary, Version(k, length));
                    File.Move(temporary, Path.Combine(_site.Root, name), overwrite: true);
                }
                written = k;
            }
        }, TaskCreationOptions.LongRunning);

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(server.Url) };
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 64).Select(async c =>
            {
                for (int i = 0; i < 40; i++)
                {
                    var (name, length) = files[(c + i) % 2];
                    using var response = await client.GetAsync(name);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
                    string text = Encoding.ASCII.GetString(body);
                    int k = int.Parse(text[1..text.IndexOf(':')]);
                    Assert.Equal(Version(k, length), body); // whole, and one version only
                    Assert.Equal(body.Length, response.Content.Headers.ContentLength);
                    string etag = response.Headers.ETag!.Tag;
                    Assert.EndsWith($"-{body.Length:x}\"", etag); // the validator describes this very body
                    seen[$"{name} {k}"] = 0;
                }
            }));
        }
        finally
        {
            stop.Cancel();
            await writer;
        }
        Assert.True(written > 1 && seen.Count > 2, $"the files changed {written} times and {seen.Count} versions were seen: the race was not exercised");
    }

    [EpollFact] // the open-file cache belongs to the descriptor path (Linux, epoll)
    public async Task The_open_file_cache_serves_a_file_as_it_was_opened_and_holds_no_more_entries_than_its_bound()
    {
        _site.Write("a.txt", "a, first");
        _site.Write("b.txt", "b, first");
        var handler = new StaticFiles(_site.Root, new StaticFileOptions { OpenFileCacheEntries = 1, OpenFileCacheValidity = TimeSpan.FromHours(1) });
        await using var server = await CountingServer.StartAsync(handler.HandleAsync);
        using var client = new HttpClient { BaseAddress = new Uri(server.Url) };
        Assert.Equal("a, first", await client.GetStringAsync("a.txt"));
        Replace("a.txt", "a, second, longer");
        Assert.Equal("a, first", await client.GetStringAsync("a.txt")); // the cached descriptor: the old file, whole
        Assert.Equal("b, first", await client.GetStringAsync("b.txt")); // one entry only: a.txt leaves the cache
        using var response = await client.GetAsync("a.txt");
        Assert.Equal("a, second, longer", await response.Content.ReadAsStringAsync());
        Assert.Equal(17, response.Content.Headers.ContentLength);
    }

    private void Replace(string name, string content)
    {
        string temporary = Path.Combine(_site.Root, name + ".new");
        File.WriteAllText(temporary, content);
        File.Move(temporary, Path.Combine(_site.Root, name), overwrite: true);
    }
}
