using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// The roads files take when the kernel has not cached them (a lookup, a small body, a piece of a large one go to a
/// worker): the answers are the same as from the cache, byte for byte.
/// </summary>
[Collection(nameof(StaticUncachedTests))] // the hook is process-wide: these tests take turns
public sealed class StaticUncachedTests : IDisposable
{
    private readonly StaticSite _site = new();
    private readonly byte[] _middle = RandomNumberGenerator.GetBytes(20_000);
    private readonly byte[] _large = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);

    public StaticUncachedTests()
    {
        _site.Write("index.html", "Hello, World!");
        _site.Write("middle.bin", _middle);
        _site.Write("large.bin", _large);
        _site.Write("sub/index.html", "sub home");
    }

    public void Dispose()
    {
        DescriptorFileServer.AssumeNothingCached = false;
        DescriptorFileServer.BeforeWorkerRead = null;
        _site.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Files_are_the_same_from_the_cache_and_from_the_workers(bool nothingCached)
    {
        DescriptorFileServer.AssumeNothingCached = nothingCached;
        // Small pieces, so the large file is several pieces, each checked against the cache on its own.
        var files = new StaticFiles(_site.Root, new StaticFileOptions { SendChunkBytes = 256 * 1024 });
        await using var server = await CountingServer.StartAsync(files.HandleAsync);
        using var client = new HttpClient { BaseAddress = new Uri(server.Url) };

        Assert.Equal("Hello, World!", await client.GetStringAsync("/"));
        Assert.Equal("sub home", await client.GetStringAsync("/sub/"));
        Assert.Equal(_middle, await client.GetByteArrayAsync("/middle.bin"));
        Assert.Equal(_large, await client.GetByteArrayAsync("/large.bin"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/missing.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.MovedPermanently, (await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }).GetAsync(server.Url + "/sub")).StatusCode);

        using var range = new HttpRequestMessage(HttpMethod.Get, "/large.bin");
        range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, 2_999_999);
        using var partial = await client.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(_large.AsSpan(1000, 2_999_000).ToArray(), await partial.Content.ReadAsByteArrayAsync());

        using var smallRange = new HttpRequestMessage(HttpMethod.Get, "/middle.bin");
        smallRange.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(5, 9);
        using var smallPartial = await client.SendAsync(smallRange);
        Assert.Equal(_middle.AsSpan(5, 5).ToArray(), await smallPartial.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_large_file_evicted_from_the_page_cache_is_read_in_by_a_worker_and_sent_whole()
    {
        Evict("large.bin");
        var files = new StaticFiles(_site.Root, new StaticFileOptions { SendChunkBytes = 256 * 1024 });
        await using var server = await CountingServer.StartAsync(files.HandleAsync);
        using var client = new HttpClient { BaseAddress = new Uri(server.Url) };
        Assert.Equal(_large, await client.GetByteArrayAsync("/large.bin"));
    }

    [EpollFact] // the loop-thread file path is the epoll reactor's
    public async Task While_a_worker_is_held_inside_an_uncached_read_the_loop_answers_other_clients()
    {
        // The disk made as slow as we like: the first worker read for the evicted file waits until the test lets it go.
        // Meanwhile the same loop must go on answering requests for a cached file on other connections.
        Evict("large.bin");
        using var release = new ManualResetEventSlim();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int first = 0;
        DescriptorFileServer.BeforeWorkerRead = () =>
        {
            if (Interlocked.Exchange(ref first, 1) != 0) return;
            held.SetResult();
            release.Wait(TimeSpan.FromSeconds(60));
        };
        var files = new StaticFiles(_site.Root, new StaticFileOptions { SendChunkBytes = 256 * 1024 });
        await using var server = await CountingServer.StartAsync(files.HandleAsync);
        using var slow = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var others = new HttpClient { BaseAddress = new Uri(server.Url) };

        var large = slow.GetByteArrayAsync("/large.bin");
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30)); // fails if the evicted file was read on the loop
        for (int i = 0; i < 20; i++)
            Assert.Equal("Hello, World!", await others.GetStringAsync("/").WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(large.IsCompleted, "the large download finished while its read was held");
        release.Set();
        Assert.Equal(_large, await large.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [EpollFact] // the loop-thread file path (and its page-cache memo) is the epoll reactor's
    public async Task A_file_found_cached_is_trusted_for_the_memo_window_only_and_a_changed_file_is_checked_again()
    {
        // The loop's clock stands still until the test moves it: "within the window" and "after it" are exact.
        var hot = RandomNumberGenerator.GetBytes(100 * 1024);
        _site.Write("hot.bin", hot);
        int workerReads = 0;
        DescriptorFileServer.BeforeWorkerRead = () => Interlocked.Increment(ref workerReads);
        var clock = new VirtualClock { AutoAdvance = false };
        var files = new StaticFiles(_site.Root);
        var descriptors = files.Descriptors!;
        var server = new HttpServer(files.HandleAsync, new HttpServerOptions { Port = 0, Loops = 1, TimeProvider = clock });
        await server.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}") };
            Assert.Equal(hot, await client.GetByteArrayAsync("/hot.bin")); // cachestat: all cached, noted
            Assert.Equal(0, workerReads);
            int checks = descriptors.CacheChecks;
            Assert.True(checks > 0);
            Assert.Equal(hot, await client.GetByteArrayAsync("/hot.bin")); // within the window: trusted, no cachestat
            Assert.Equal(checks, descriptors.CacheChecks);

            // A changed file is another file (size, mtime), checked again at once, still within the window: its pages
            // are not cached, so a worker reads them in.
            var changed = RandomNumberGenerator.GetBytes(100 * 1024 + 1);
            _site.Write("hot.bin", changed);
            Evict("hot.bin");
            Assert.Equal(changed, await client.GetByteArrayAsync("/hot.bin"));
            Assert.Equal(1, workerReads);
            Assert.True(descriptors.CacheChecks > checks);
            checks = descriptors.CacheChecks;
            Assert.Equal(changed, await client.GetByteArrayAsync("/hot.bin")); // the worker read it in: all cached, noted
            Assert.Equal(1, workerReads);
            Assert.True(descriptors.CacheChecks > checks);
            checks = descriptors.CacheChecks;
            Assert.Equal(changed, await client.GetByteArrayAsync("/hot.bin"));
            Assert.Equal(checks, descriptors.CacheChecks);

            // Once the window has passed, the kernel is asked again.
            clock.Advance(PageCacheMemo.Window);
            Assert.Equal(changed, await client.GetByteArrayAsync("/hot.bin"));
            Assert.True(descriptors.CacheChecks > checks);
            Assert.Equal(1, workerReads);
        }
        finally
        {
            await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Drops a file's pages (clean: written and synced), so cachestat and RWF_NOWAIT find them missing.</summary>
    private void Evict(string name)
    {
        string path = Path.Combine(_site.Root, name);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.FlushToDisk(handle);
        Assert.Equal(0, PosixFadvise(handle.DangerousGetHandle().ToInt32(), 0, 0, DontNeed));
    }

    private const int DontNeed = 4;

    [DllImport("libc", EntryPoint = "posix_fadvise")]
    private static extern int PosixFadvise(int fd, long offset, long length, int advice);
}
