using System.Security.Cryptography;
using System.Text;

namespace Meanwhile.Http.Server.Tests;

/// <summary>The static-file handler with curl and raw sockets: content, validators, ranges, HEAD, listings, status codes.</summary>
public sealed class StaticFileTests : IDisposable
{
    private readonly StaticSite _site = new();

    public StaticFileTests()
    {
        _site.Write("index.html", "<!DOCTYPE html><title>home</title>");
        _site.Write("style.css", "body { color: black }");
        _site.Write("app.js", "console.log(1);");
        _site.Write("data.json", "{\"a\":1}");
        _site.Write("image.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
        _site.Write("image.png", Png.Solid(2, 255, 0, 0));
        _site.Write("UPPER.PNG", Png.Solid(1, 0, 0, 0));
        _site.Write("blob.unknownext", "?");
        _site.Write("digits.txt", "0123456789abcdefghij");
        _site.Write("empty.txt", "");
        _site.Write("docs/index.html", "docs home");
        _site.Write("docs/page.html", "a page");
        _site.Write("list/b.txt", "b");
        _site.Write("list/<a>&\"q\".txt", "tricky");
        _site.Write("list/.hidden", "hidden");
        _site.Write("list/sub/x.txt", "x");
        _site.Write(".env", "SECRET=1");
    }

    public void Dispose() => _site.Dispose();

    private StaticFiles Files(StaticFileOptions? options = null) => new(_site.Root, options);

    [ToolFact("curl")]
    public async Task ServesFilesWithTheirMediaTypes()
    {
        await using var server = await CountingServer.StartAsync(Files().HandleAsync);
        (string Path, string Type)[] expected =
        [
            ("/style.css", "text/css; charset=utf-8"),
            ("/app.js", "text/javascript; charset=utf-8"),
            ("/data.json", "application/json"),
            ("/image.svg", "image/svg+xml"),
            ("/image.png", "image/png"),
            ("/UPPER.PNG", "image/png"),
            ("/blob.unknownext", "application/octet-stream"),
            ("/digits.txt", "text/plain; charset=utf-8"),
        ];
        foreach (var (path, type) in expected)
        {
            var response = CurlResponse.Get(server.Url + path);
            Assert.Equal(200, response.Status);
            Assert.Equal(type, response.Header("Content-Type"));
            Assert.Equal(new FileInfo(_site.Root + path).Length.ToString(), response.Header("Content-Length"));
            Assert.Equal("bytes", response.Header("Accept-Ranges"));
        }
        Assert.Equal("0123456789abcdefghij", CurlResponse.Get(server.Url + "/digits.txt").Body);
        var empty = CurlResponse.Get(server.Url + "/empty.txt");
        Assert.Equal(200, empty.Status);
        Assert.Equal("0", empty.Header("Content-Length"));
    }

    [ToolFact("curl")]
    public async Task DirectoriesServeTheirIndexAndGainASlash()
    {
        await using var server = await CountingServer.StartAsync(Files().HandleAsync);
        var home = CurlResponse.Get(server.Url + "/");
        Assert.Equal(200, home.Status);
        Assert.Equal("<!DOCTYPE html><title>home</title>", home.Body);
        Assert.Equal("text/html; charset=utf-8", home.Header("Content-Type"));
        Assert.Equal("docs home", CurlResponse.Get(server.Url + "/docs/").Body);

        var redirect = CurlResponse.Get(server.Url + "/docs?x=1");
        Assert.Equal(301, redirect.Status);
        Assert.Equal("/docs/?x=1", redirect.Header("Location"));
        // "//docs" would otherwise redirect to "//docs/", a URL on the host "docs".
        Assert.Equal("/docs/", CurlResponse.Get(server.Url + "//docs").Header("Location"));
        Assert.Equal("docs home", CurlResponse.Get("-L", server.Url + "/docs").Body);
    }

    [ToolFact("curl")]
    public async Task DirectoryListingIsOffByDefaultAndEscapesNamesWhenOn()
    {
        await using (var server = await CountingServer.StartAsync(Files().HandleAsync))
            Assert.Equal(404, CurlResponse.Get(server.Url + "/list/").Status);

        await using (var server = await CountingServer.StartAsync(Files(new StaticFileOptions { DirectoryListing = true }).HandleAsync))
        {
            var listing = CurlResponse.Get(server.Url + "/list/");
            Assert.Equal(200, listing.Status);
            Assert.Equal("text/html; charset=utf-8", listing.Header("Content-Type"));
            Assert.Contains("<a href=\"sub/\">sub/</a>", listing.Body);
            Assert.Contains("<a href=\"b.txt\">b.txt</a>", listing.Body);
            Assert.Contains("<a href=\"%3Ca%3E%26%22q%22.txt\">&lt;a&gt;&amp;&quot;q&quot;.txt</a>", listing.Body);
            Assert.DoesNotContain("<a>", listing.Body);
            Assert.DoesNotContain(".hidden", listing.Body);
            Assert.Contains("href=\"../\"", listing.Body);
            Assert.True(listing.Body.IndexOf("sub/", StringComparison.Ordinal) < listing.Body.IndexOf("b.txt", StringComparison.Ordinal), "directories first");
            Assert.Equal("tricky", CurlResponse.Get(server.Url + "/list/%3Ca%3E%26%22q%22.txt").Body);
        }
    }

    [ToolFact("curl")]
    public async Task HeadSendsTheLengthAndNoBody()
    {
        await using var server = await CountingServer.StartAsync(Files().HandleAsync);
        var head = CurlResponse.Get("-I", server.Url + "/digits.txt");
        Assert.Equal(200, head.Status);
        Assert.Equal("20", head.Header("Content-Length"));
        Assert.NotNull(head.Header("ETag"));

        // Byte-exact: nothing may follow the head, and the connection stays usable for the next request.
        using var client = new RawClient(server.Port);
        client.Send("HEAD /digits.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /empty.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        string all = client.ReadToEnd();
        int first = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.Contains("Content-Length: 20", all[..first]);
        Assert.StartsWith("HTTP/1.1 200 OK", all[(first + 4)..]);
    }

    [Fact]
    public async Task SendfileBodiesFollowTheirHeadExactlyOnKeepAliveBetweenHeadRequests()
    {
        // Above the small-body size the head leaves marked "more follows" (MSG_MORE) and the body with sendfile; a HEAD
        // (no body: its head is sent plainly) first on a fresh connection and between them: byte-exact framing.
        var big = RandomNumberGenerator.GetBytes(100 * 1024);
        _site.Write("big.bin", big);
        await using var server = await CountingServer.StartAsync(Files().HandleAsync);
        using var client = new RawClient(server.Port);
        for (int i = 0; i < 2; i++)
        {
            client.Send("HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                int n = client.Socket.Receive(buffer); // within the client's receive deadline, or the test fails
                Assert.NotEqual(0, n);
                head.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", head.ToString());
            Assert.Contains("Content-Length: 102400\r\n", head.ToString());

            client.Send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
            var (status, _, body) = client.ReadResponses(1)[0];
            Assert.Equal(200, status);
            Assert.Equal(big, Encoding.Latin1.GetBytes(body));
        }
    }

    [ToolFact("curl")]
    public async Task SingleRangesGet206AndUnsatisfiableOnesGet416()
    {
        await using var server = await CountingServer.StartAsync(Files().HandleAsync);
        var middle = CurlResponse.Get("-r", "5-9", server.Url + "/digits.txt");
        Assert.Equal(206, middle.Status);
        Assert.Equal("bytes 5-9/20", middle.Header("Content-Range"));
        Assert.Equal("5", middle.Header("Content-Length"));
        Assert.Equal("56789", middle.Body);

        var suffix = CurlResponse.Get("-r", "-3", server.Url + "/digits.txt");
        Assert.Equal("bytes 17-19/20", suffix.Header("Content-Range"));
        Assert.Equal("hij", suffix.Body);

        var open = CurlResponse.Get("-r", "18-", server.Url + "/digits.txt");
        Assert.Equal("ij", open.Body);

        var clamped = CurlResponse.Get("-r", "15-99999999999999999999999", server.Url + "/digits.txt");
        Assert.Equal("bytes 15-19/20", clamped.Header("Content-Range"));

        var past = CurlResponse.Get("-r", "20-30", server.Url + "/digits.txt");
        Assert.Equal(416, past.Status);
        Assert.Equal("bytes */20", past.Header("Content-Range"));
        Assert.Equal("0", past.Header("Content-Length"));
        Assert.Equal(416, CurlResponse.Get("-r", "0-0", server.Url + "/empty.txt").Status);

        // Several ranges are refused by sending the whole file (RFC 9110 allows it; no multipart/byteranges).
        var several = CurlResponse.Get("-r", "0-1,4-5", server.Url + "/digits.txt");
        Assert.Equal(200, several.Status);
        Assert.Equal("0123456789abcdefghij", several.Body);

        // If-Range: a matching entity-tag honours the range, a stale one gets the whole file.
        string etag = CurlResponse.Get("-I", server.Url + "/digits.txt").Header("ETag")!;
        Assert.Equal(206, CurlResponse.Get("-r", "0-0", "-H", $"If-Range: {etag}", server.Url + "/digits.txt").Status);
        Assert.Equal(200, CurlResponse.Get("-r", "0-0", "-H", "If-Range: \"stale\"", server.Url + "/digits.txt").Status);

        // HEAD ignores Range (it is defined for GET only).
        Assert.Equal(200, CurlResponse.Get("-I", "-r", "0-0", server.Url + "/digits.txt").Status);
    }

    [ToolFact("curl")]
    public async Task ValidatorsAnswer304()
    {
        await using var server = await CountingServer.StartAsync(Files().HandleAsync);
        var first = CurlResponse.Get(server.Url + "/style.css");
        string etag = first.Header("ETag")!;
        string lastModified = first.Header("Last-Modified")!;
        Assert.Matches("^\"[0-9a-f]+-[0-9a-f]+\"$", etag);
        Assert.EndsWith(" GMT", lastModified);

        var byTag = CurlResponse.Get("-H", $"If-None-Match: {etag}", server.Url + "/style.css");
        Assert.Equal(304, byTag.Status);
        Assert.Equal("", byTag.Body);
        Assert.Equal(etag, byTag.Header("ETag"));
        Assert.Null(byTag.Header("Content-Length"));
        Assert.Equal(304, CurlResponse.Get("-H", $"If-None-Match: \"other\", W/{etag}", server.Url + "/style.css").Status);
        Assert.Equal(304, CurlResponse.Get("-H", "If-None-Match: *", server.Url + "/style.css").Status);
        Assert.Equal(200, CurlResponse.Get("-H", "If-None-Match: \"other\"", server.Url + "/style.css").Status);

        Assert.Equal(304, CurlResponse.Get("-H", $"If-Modified-Since: {lastModified}", server.Url + "/style.css").Status);
        Assert.Equal(200, CurlResponse.Get("-H", "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT", server.Url + "/style.css").Status);
        Assert.Equal(200, CurlResponse.Get("-H", "If-Modified-Since: not a date", server.Url + "/style.css").Status);
        // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
        Assert.Equal(200, CurlResponse.Get("-H", "If-None-Match: \"other\"", "-H", $"If-Modified-Since: {lastModified}", server.Url + "/style.css").Status);

        // A changed file gets a new entity-tag.
        File.WriteAllText(Path.Combine(_site.Root, "style.css"), "body { color: red }");
        File.SetLastWriteTimeUtc(Path.Combine(_site.Root, "style.css"), DateTime.UtcNow.AddMinutes(1));
        var changed = CurlResponse.Get("-H", $"If-None-Match: {etag}", server.Url + "/style.css");
        Assert.Equal(200, changed.Status);
        Assert.Equal("body { color: red }", changed.Body);
    }

    [ToolFact("curl")]
    public async Task Each_file_gets_its_own_last_modified_date_when_requests_alternate()
    {
        // The server keeps the last date it formatted: a request for another file must not get it.
        var older = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        var newer = new DateTime(2024, 7, 8, 9, 10, 11, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Path.Combine(_site.Root, "app.js"), older);
        File.SetLastWriteTimeUtc(Path.Combine(_site.Root, "data.json"), newer);
        await using var server = await CountingServer.StartAsync(Files().HandleAsync);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("Sat, 03 Feb 2001 04:05:06 GMT", CurlResponse.Get(server.Url + "/app.js").Header("Last-Modified"));
            Assert.Equal("Mon, 08 Jul 2024 09:10:11 GMT", CurlResponse.Get(server.Url + "/data.json").Header("Last-Modified"));
        }
    }

    [ToolFact("curl")]
    public async Task StatusCodes404And403And405()
    {
        Directory.CreateSymbolicLink(Path.Combine(_site.Root, "outside"), _site.Base);
        await using var server = await CountingServer.StartAsync(Files().HandleAsync);
        Assert.Equal(404, CurlResponse.Get(server.Url + "/missing.txt").Status);
        Assert.Equal(404, CurlResponse.Get(server.Url + "/missing/dir/").Status);
        Assert.Equal(404, CurlResponse.Get(server.Url + "/digits.txt/").Status);
        Assert.Equal(404, CurlResponse.Get(server.Url + "/.env").Status); // hidden by default
        var outside = CurlResponse.Get(server.Url + "/outside/secret.txt");
        Assert.Equal(403, outside.Status);
        Assert.DoesNotContain(StaticSite.Secret, outside.Body);

        var post = CurlResponse.Get("-X", "POST", "-d", "x", server.Url + "/digits.txt");
        Assert.Equal(405, post.Status);
        Assert.Equal("GET, HEAD", post.Header("Allow"));
        Assert.Equal(405, CurlResponse.Get("-X", "DELETE", server.Url + "/digits.txt").Status);
    }

    [NotRootFact]
    public async Task UnreadableFileGets403()
    {
        string path = _site.Write("locked.txt", "locked");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.None);
        await using var server = await CountingServer.StartAsync(Files().HandleAsync);
        Assert.Equal(403, CurlResponse.Get(server.Url + "/locked.txt").Status);
    }

    [ToolFact("curl")]
    public async Task HiddenFilesAreServedWhenAllowed()
    {
        await using var server = await CountingServer.StartAsync(Files(new StaticFileOptions { ServeHiddenFiles = true }).HandleAsync);
        Assert.Equal("SECRET=1", CurlResponse.Get(server.Url + "/.env").Body);
    }

    [ToolFact("curl")]
    public async Task MountedOnARouterPrefix()
    {
        var files = Files(new StaticFileOptions { CacheControl = "public, max-age=60" });
        var router = new Router().MapGet("/assets/{*path}", files.HandleAsync).MapGet("/", Handlers.Hello);
        await using var server = await CountingServer.StartAsync(router.HandleAsync);
        var css = CurlResponse.Get(server.Url + "/assets/style.css");
        Assert.Equal(200, css.Status);
        Assert.Equal("body { color: black }", css.Body);
        Assert.Equal("public, max-age=60", css.Header("Cache-Control"));
        Assert.Equal("docs home", CurlResponse.Get(server.Url + "/assets/docs/").Body);
        Assert.Equal("/assets/docs/", CurlResponse.Get(server.Url + "/assets/docs").Header("Location"));
        Assert.Equal("Hello, World!", CurlResponse.Get(server.Url + "/").Body);
        Assert.Equal(400, CurlResponse.Get(server.Url + "/assets/../secret.txt").Status);
        Assert.Equal(405, CurlResponse.Get("-X", "POST", server.Url + "/assets/style.css").Status);
    }

    public static TheoryData<ReactorKind> Reactors => [ReactorKind.Epoll, ReactorKind.Portable];

    [ToolTheory("curl")]
    [MemberData(nameof(Reactors))]
    public async Task LargeFileArrivesIntactWithSendfile(ReactorKind reactor)
    {
        var data = new byte[50 * 1024 * 1024 + 12345];
        new Random(42).NextBytes(data);
        _site.Write("large.bin", data);
        string expected = Convert.ToHexStringLower(SHA256.HashData(data));
        await using var server = await CountingServer.StartAsync(Files().HandleAsync, reactor);

        string output = Path.Combine(_site.Base, "download.bin");
        var (code, _, stderr) = Tool.Run("curl", ["-s", "-f", "-o", output, server.Url + "/large.bin"], timeoutSeconds: 120);
        Assert.True(code == 0, stderr);
        Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(output))));

        // A range in the middle of the file, across sendfile pieces.
        long from = 3 * 1024 * 1024 - 7, to = 9 * 1024 * 1024 + 3;
        (code, _, stderr) = Tool.Run("curl", ["-s", "-f", "-r", $"{from}-{to}", "-o", output, server.Url + "/large.bin"], timeoutSeconds: 120);
        Assert.True(code == 0, stderr);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data.AsSpan((int)from, (int)(to - from + 1)))),
            Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(output))));
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_disconnected_after_the_send_timeout()
    {
        _site.Write("stall.bin", new byte[64 * 1024 * 1024]);
        var files = Files(new StaticFileOptions { SendChunkTimeout = TimeSpan.FromMilliseconds(300) });
        var timedOut = new TaskCompletionSource<TimeoutException>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await CountingServer.StartAsync(async (request, response) =>
        {
            try
            {
                await files.HandleAsync(request, response);
            }
            catch (TimeoutException e)
            {
                timedOut.TrySetResult(e);
                throw;
            }
        });
        using var client = new RawClient(server.Port);
        client.Send("GET /stall.bin HTTP/1.1\r\nHost: x\r\n\r\n");
        // Read nothing until the handler gives up on this client; then the connection is closed, so reading ends.
        var e = await timedOut.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Contains("stall.bin", e.Message);
        // What the socket buffers held arrives, then the end: a FIN, or a reset where the reactor's sockets send one.
        var head = new byte[15];
        Assert.Equal(15, client.Socket.Receive(head));
        Assert.Equal("HTTP/1.1 200 OK", Encoding.ASCII.GetString(head));
        long received = 0;
        var buffer = new byte[1 << 20];
        try
        {
            int n;
            while ((n = client.Socket.Receive(buffer)) > 0) received += n;
        }
        catch (System.Net.Sockets.SocketException reset) when (reset.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
        }
        Assert.True(received < 64 * 1024 * 1024, "the body was cut short");
    }

    [Fact]
    public void Media_type_table_lookups()
    {
        Assert.Equal("text/html; charset=utf-8", MimeTypes.GetContentType("a/b/index.HTML"));
        Assert.Equal("font/woff2", MimeTypes.GetContentType("f.woff2"));
        Assert.Equal(MimeTypes.Default, MimeTypes.GetContentType("Makefile"));
        Assert.Equal(MimeTypes.Default, MimeTypes.GetContentType("archive."));
    }

    [Fact]
    public void Root_must_be_a_directory()
    {
        Assert.Throws<DirectoryNotFoundException>(() => new StaticFiles(Path.Combine(_site.Base, "nope")));
        Assert.Throws<DirectoryNotFoundException>(() => new StaticFiles(Path.Combine(_site.Base, "secret.txt")));
        Assert.Throws<ArgumentException>(() => new StaticFileOptions { IndexFile = "../x.html" });
    }

    [Theory]
    [InlineData("bytes=0-4", 10, "Partial", 0, 4)]
    [InlineData("bytes=5-", 10, "Partial", 5, 9)]
    [InlineData("bytes=-4", 10, "Partial", 6, 9)]
    [InlineData("bytes=-40", 10, "Partial", 0, 9)]
    [InlineData("BYTES = 1-2", 10, "Whole", 0, 0)]
    [InlineData("Bytes=1-2", 10, "Partial", 1, 2)]
    [InlineData("bytes=10-", 10, "Unsatisfiable", 0, 0)]
    [InlineData("bytes=-0", 10, "Unsatisfiable", 0, 0)]
    [InlineData("bytes=-1", 0, "Unsatisfiable", 0, 0)]
    [InlineData("bytes=5-4", 10, "Whole", 0, 0)]
    [InlineData("bytes=0-1,3-4", 10, "Whole", 0, 0)]
    [InlineData("items=0-1", 10, "Whole", 0, 0)]
    [InlineData("bytes=a-b", 10, "Whole", 0, 0)]
    [InlineData("bytes=+1-2", 10, "Whole", 0, 0)]
    [InlineData("bytes=99999999999999999999999-", 10, "Unsatisfiable", 0, 0)]
    public void Range_parsing(string value, long length, string expected, long first, long last)
    {
        var verdict = Enum.Parse<RangeVerdict>(expected);
        var actual = HttpValidators.ParseRange(Encoding.ASCII.GetBytes(value), length, out long f, out long l);
        Assert.Equal(verdict, actual);
        if (verdict == RangeVerdict.Partial) Assert.Equal((first, last), (f, l));
    }

    [Theory]
    [InlineData("/a/b.txt", "Found", "a/b.txt", false)]
    [InlineData("//a/./b.txt", "Found", "a/b.txt", false)]
    [InlineData("/a/", "Found", "a", true)]
    [InlineData("/a/.", "Found", "a", true)]
    [InlineData("", "Found", "", true)]
    [InlineData("/%41%2fb", "Found", "A/b", false)]
    [InlineData("/%252e%252e/x", "Found", "%2e%2e/x", false)]
    [InlineData("/caf%C3%A9", "Found", "café", false)]
    [InlineData("/a..b", "Found", "a..b", false)]
    [InlineData("/...", "NotFound", "", false)] // a dot name, hidden by default
    [InlineData("/../x", "BadRequest", "", false)]
    [InlineData("/a/..", "BadRequest", "", false)]
    [InlineData("/%2e%2e/x", "BadRequest", "", false)]
    [InlineData("/%2E%2E/x", "BadRequest", "", false)]
    [InlineData("/..%2fx", "BadRequest", "", false)]
    [InlineData("/a\\..\\x", "BadRequest", "", false)]
    [InlineData("/a%5c..%5cx", "BadRequest", "", false)]
    [InlineData("/x%00.html", "BadRequest", "", false)]
    [InlineData("/x%0a", "BadRequest", "", false)]
    [InlineData("/x%", "BadRequest", "", false)]
    [InlineData("/x%2", "BadRequest", "", false)]
    [InlineData("/x%zz", "BadRequest", "", false)]
    [InlineData("/%c0%ae%c0%ae/x", "BadRequest", "", false)] // overlong UTF-8 for ".": not UTF-8 at all
    [InlineData("/.git/config", "NotFound", "", false)]
    public void PathDecoding(string raw, string expected, string relative, bool directoryForm)
    {
        var verdict = Enum.Parse<PathVerdict>(expected);
        var paths = new StaticPath(_site.Root, followOutside: false, serveHidden: false);
        var actual = paths.Decode(Encoding.Latin1.GetBytes(raw), out string r, out bool d);
        Assert.Equal(verdict, actual);
        if (verdict == PathVerdict.Found) Assert.Equal((relative, directoryForm), (r, d));
    }

    [Fact]
    public void Long_paths_decode_through_the_pool()
    {
        var paths = new StaticPath(_site.Root, followOutside: false, serveHidden: false);
        string raw = "/" + string.Join("/", Enumerable.Repeat("segment%20", 100));
        Assert.Equal(PathVerdict.Found, paths.Decode(Encoding.ASCII.GetBytes(raw), out string relative, out _));
        Assert.Equal(string.Join("/", Enumerable.Repeat("segment ", 100)), relative);
    }
}
