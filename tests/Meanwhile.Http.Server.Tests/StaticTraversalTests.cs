namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// Path traversal against the static-file handler, sent byte for byte on raw sockets (no client normalises them).
/// The site has a secret file next to its root and links inside the root that point out of it.
/// </summary>
public sealed class StaticTraversalTests : IDisposable
{
    private readonly StaticSite _site = new();

    public StaticTraversalTests()
    {
        _site.Write("index.html", "home");
        _site.Write("style.css", "body {}");
        _site.Write("sub/page.txt", "page");
        // A directory literally named "%2e%2e": "/%252e%252e/" must reach it, decoded once and no more.
        _site.Write("%2e%2e/literal.txt", "literal dots");
        Directory.CreateSymbolicLink(Path.Combine(_site.Root, "etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(_site.Root, "leak.txt"), "../secret.txt");
        File.CreateSymbolicLink(Path.Combine(_site.Root, "sub", "up.txt"), "../../secret.txt");
        Directory.CreateSymbolicLink(Path.Combine(_site.Root, "base"), _site.Base);
        // Links that stay inside the root are fine.
        File.CreateSymbolicLink(Path.Combine(_site.Root, "alias.css"), "style.css");
        Directory.CreateSymbolicLink(Path.Combine(_site.Root, "sub", "back"), "..");
        // A loop of links.
        File.CreateSymbolicLink(Path.Combine(_site.Root, "loop1"), "loop2");
        File.CreateSymbolicLink(Path.Combine(_site.Root, "loop2"), "loop1");
    }

    public void Dispose() => _site.Dispose();

    public static TheoryData<string> Attacks =>
    [
        "GET /../secret.txt HTTP/1.1",
        "GET /../../../../../../etc/passwd HTTP/1.1",
        "GET /%2e%2e/secret.txt HTTP/1.1",
        "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1",
        "GET /%2E%2E/secret.txt HTTP/1.1",
        "GET /.%2e/secret.txt HTTP/1.1",
        "GET /%252e%252e/secret.txt HTTP/1.1",
        "GET /%252e%252e/%252e%252e/etc/passwd HTTP/1.1",
        "GET /..%2fsecret.txt HTTP/1.1",
        "GET /..%2f..%2f..%2fetc%2fpasswd HTTP/1.1",
        "GET /%2e%2e%2fsecret.txt HTTP/1.1",
        "GET /sub/../../secret.txt HTTP/1.1",
        "GET /./../secret.txt HTTP/1.1",
        "GET //..//secret.txt HTTP/1.1",
        "GET /\\..\\secret.txt HTTP/1.1",
        "GET /sub\\..\\..\\secret.txt HTTP/1.1",
        "GET /%5c..%5csecret.txt HTTP/1.1",
        "GET /..%5c..%5cetc%5cpasswd HTTP/1.1",
        "GET /secret.txt%00.html HTTP/1.1",
        "GET /../secret.txt%00 HTTP/1.1",
        "GET /%00/../secret.txt HTTP/1.1",
        "GET /%c0%ae%c0%ae/secret.txt HTTP/1.1",
        "GET /%c0%af../secret.txt HTTP/1.1",
        "GET http://localhost/../secret.txt HTTP/1.1",
        "GET http://localhost/%2e%2e/secret.txt HTTP/1.1",
        "GET /etc/passwd HTTP/1.1",
        "GET /etc/ HTTP/1.1",
        "GET /leak.txt HTTP/1.1",
        "GET /sub/up.txt HTTP/1.1",
        "GET /base/secret.txt HTTP/1.1",
        "GET /loop1 HTTP/1.1",
        "HEAD /leak.txt HTTP/1.1",
        "GET /secret.txt HTTP/1.1",
    ];

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Refused_without_revealing_anything(string requestLine)
    {
        var files = new StaticFiles(_site.Root, new StaticFileOptions { DirectoryListing = true });
        await using var server = await CountingServer.StartAsync(files.HandleAsync);
        var (status, response) = RawRequest.Send(server.Port, requestLine);
        Assert.True(status is 400 or 403 or 404, $"{requestLine} -> {status}");
        Assert.DoesNotContain(StaticSite.Secret, response);
        Assert.DoesNotContain("root:", response); // /etc/passwd
        Assert.DoesNotContain("passwd", response[response.IndexOf("\r\n\r\n", StringComparison.Ordinal)..]); // nor a listing of /etc
    }

    [Fact]
    public async Task Symlinks_out_of_the_root_get_403_and_inside_it_work()
    {
        var files = new StaticFiles(_site.Root);
        await using var server = await CountingServer.StartAsync(files.HandleAsync);
        Assert.Equal(403, RawRequest.Send(server.Port, "GET /etc/passwd HTTP/1.1").Status);
        Assert.Equal(403, RawRequest.Send(server.Port, "GET /leak.txt HTTP/1.1").Status);
        Assert.Equal(403, RawRequest.Send(server.Port, "GET /base/secret.txt HTTP/1.1").Status);
        Assert.Equal(404, RawRequest.Send(server.Port, "GET /loop1 HTTP/1.1").Status);

        var (status, response) = RawRequest.Send(server.Port, "GET /alias.css HTTP/1.1");
        Assert.Equal(200, status);
        Assert.EndsWith("body {}", response);
        (status, response) = RawRequest.Send(server.Port, "GET /sub/back/sub/page.txt HTTP/1.1");
        Assert.Equal(200, status);
        Assert.EndsWith("page", response);
    }

    [Fact]
    public async Task Double_encoding_is_decoded_once()
    {
        var files = new StaticFiles(_site.Root);
        await using var server = await CountingServer.StartAsync(files.HandleAsync);
        var (status, response) = RawRequest.Send(server.Port, "GET /%252e%252e/literal.txt HTTP/1.1");
        Assert.Equal(200, status);
        Assert.EndsWith("literal dots", response);
    }

    [Fact]
    public async Task Following_links_out_of_the_root_is_an_option()
    {
        var files = new StaticFiles(_site.Root, new StaticFileOptions { FollowSymlinksOutsideRoot = true });
        await using var server = await CountingServer.StartAsync(files.HandleAsync);
        var (status, response) = RawRequest.Send(server.Port, "GET /leak.txt HTTP/1.1");
        Assert.Equal(200, status);
        Assert.EndsWith(StaticSite.Secret, response);
        // The option is about links only: ".." is still refused.
        Assert.Equal(400, RawRequest.Send(server.Port, "GET /../secret.txt HTTP/1.1").Status);
    }

    [Fact]
    public async Task A_root_reached_through_a_link_is_resolved_once()
    {
        string linkedRoot = Path.Combine(_site.Base, "www-link");
        Directory.CreateSymbolicLink(linkedRoot, _site.Root);
        var files = new StaticFiles(linkedRoot);
        Assert.Equal(_site.Root, files.Root);
        await using var server = await CountingServer.StartAsync(files.HandleAsync);
        Assert.Equal(200, RawRequest.Send(server.Port, "GET /style.css HTTP/1.1").Status);
        Assert.Equal(403, RawRequest.Send(server.Port, "GET /leak.txt HTTP/1.1").Status);
    }

    [Fact]
    public async Task A_directory_swapped_for_a_link_mid_request_leaks_nothing()
    {
        // A local user flips "race" between a real directory and a link out of the root (an atomic rename exchange)
        // while requests arrive: a path checked while "race" was a directory may be opened after it became the link.
        // The open itself must refuse to leave the root. Both states must be seen, or the race was not exercised.
        _site.Write("race/secret.txt", "harmless");
        string race = Path.Combine(_site.Root, "race"), parked = Path.Combine(_site.Root, "race-parked");
        Directory.CreateSymbolicLink(parked, _site.Base);
        var files = new StaticFiles(_site.Root);
        await using var server = await CountingServer.StartAsync(files.HandleAsync);

        using var stop = new CancellationTokenSource();
        int swaps = 0;
        var swapper = Task.Factory.StartNew(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Assert.Equal(0, RenameExchange(AtCurrentDirectory, race, AtCurrentDirectory, parked, RenameFlagExchange));
                swaps++;
            }
        }, TaskCreationOptions.LongRunning);

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}/") };
        int served = 0, refused = 0;
        try
        {
            for (int i = 0; i < 3000 || served == 0 || refused == 0; i++)
            {
                Assert.True(i < 100_000, $"the swaps were never observed both ways ({served} served, {refused} refused)");
                using var response = await client.GetAsync("race/secret.txt");
                string body = await response.Content.ReadAsStringAsync();
                Assert.DoesNotContain(StaticSite.Secret, body);
                if (response.StatusCode == System.Net.HttpStatusCode.OK)
                {
                    Assert.Equal("harmless", body);
                    served++;
                }
                else
                {
                    Assert.True(response.StatusCode is System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.NotFound, $"{response.StatusCode}");
                    refused++;
                }
            }
        }
        finally
        {
            stop.Cancel();
            await swapper;
        }
        Assert.True(swaps > 0);
    }

    private const int AtCurrentDirectory = -100, RenameFlagExchange = 2;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    private static extern int RenameExchange(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);
}
