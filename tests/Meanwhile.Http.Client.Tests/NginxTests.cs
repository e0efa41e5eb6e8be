using System.Security.Cryptography.X509Certificates;

namespace Meanwhile.Http.Client.Tests;

/// <summary>The client against nginx: static files, keep-alive reuse seen from nginx's side, gzip, redirects, pipelining, HTTPS with a private CA.</summary>
public sealed class NginxTests(NginxFixture nginx) : IClassFixture<NginxFixture>
{
    [Fact]
    public void Gets_a_static_file() => ClientLoops.WithClient(async client =>
    {
        using var response = await client.SendAsync(new LoopHttpRequest("GET", nginx.Http("/hello.txt")).WithHeader("Accept-Encoding", "identity"));
        Assert.Equal(200, response.StatusCode);
        Assert.Equal(13, response.ContentLength);
        Assert.Equal("Hello, World!", await response.ReadAsStringAsync());
    });

    [Fact]
    public void Reuses_one_connection_for_sequential_requests() => ClientLoops.WithClient(async client =>
    {
        var uri = nginx.Http("/hello.txt");
        var connections = new HashSet<string>();
        for (int i = 1; i <= 5; i++)
        {
            using var response = await client.GetAsync(uri);
            Assert.Equal("Hello, World!", await response.ReadAsStringAsync());
            connections.Add(response.GetHeader("X-Connection")!);
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), response.GetHeader("X-Connection-Requests"));
        }

        Assert.Single(connections);
        Assert.Equal(1, client.OpenConnections(uri));
    });

    [Fact]
    public void Queues_requests_beyond_the_connection_limit() => ClientLoops.WithClient(async client =>
    {
        var uri = nginx.Http("/hello.txt");
        var tasks = Enumerable.Range(0, 40).Select(async _ =>
        {
            using var response = await client.GetAsync(uri);
            Assert.Equal("Hello, World!", await response.ReadAsStringAsync());
            return response.GetHeader("X-Connection")!;
        }).ToList();
        var connections = (await Task.WhenAll(tasks)).ToHashSet();
        Assert.InRange(connections.Count, 1, 2);
        Assert.InRange(client.OpenConnections(uri), 1, 2);
    }, new LoopHttpClientOptions { MaxConnectionsPerOrigin = 2 });

    [Fact]
    public void Pipelines_requests_in_order_on_one_connection() => ClientLoops.WithClient(async client =>
    {
        var paths = Enumerable.Range(0, 24).Select(i => i % 2 == 0 ? "/hello.txt" : "/sub/index.html").ToList();
        var tasks = paths.Select(async path =>
        {
            using var response = await client.GetAsync(nginx.Http(path));
            return (path, await response.ReadAsStringAsync(), response.GetHeader("X-Connection"), int.Parse(response.GetHeader("X-Connection-Requests")!, System.Globalization.CultureInfo.InvariantCulture));
        }).ToList();
        var results = await Task.WhenAll(tasks);
        foreach (var (path, body, _, _) in results)
        {
            Assert.Equal(path == "/hello.txt" ? "Hello, World!" : "<p>index</p>", body);
        }

        Assert.Single(results.Select(r => r.Item3).Distinct());
        Assert.Equal(24, results.Max(r => r.Item4));
    }, new LoopHttpClientOptions { MaxConnectionsPerOrigin = 1, MaxPipelineDepth = 8 });

    [Fact]
    public void Decodes_gzip_and_sends_accept_encoding() => ClientLoops.WithClient(async client =>
    {
        using var response = await client.GetAsync(nginx.Http("/big.txt"));
        Assert.Equal("gzip", response.GetHeader("Content-Encoding"));
        Assert.Equal(nginx.BigText, await response.ReadAsStringAsync());
        Assert.True(response.IsDecoded);
    });

    [Fact]
    public void Leaves_the_body_encoded_without_automatic_decompression() => ClientLoops.WithClient(async client =>
    {
        using var response = await client.GetAsync(nginx.Http("/big.txt"));
        Assert.Null(response.GetHeader("Content-Encoding"));
        Assert.Equal(nginx.BigText, await response.ReadAsStringAsync());
    }, new LoopHttpClientOptions { AutomaticDecompression = false });

    [Fact]
    public void Streams_a_large_body_in_small_reads() => ClientLoops.WithClient(async client =>
    {
        using var response = await client.GetAsync(nginx.Http("/big.bin"));
        var received = new MemoryStream();
        var piece = new byte[1000];
        int n;
        while ((n = await response.Content.ReadAsync(piece)) > 0)
        {
            received.Write(piece, 0, n);
        }

        Assert.Equal(nginx.BigBinary, received.ToArray());
    });

    [Fact]
    public void Head_and_204_have_no_body_and_keep_the_connection() => ClientLoops.WithClient(async client =>
    {
        string first;
        using (var head = await client.SendAsync(new LoopHttpRequest("HEAD", nginx.Http("/big.bin"))))
        {
            Assert.Equal(200, head.StatusCode);
            Assert.Equal(nginx.BigBinary.Length, head.ContentLength);
            Assert.Empty(await head.ReadAsBytesAsync());
            first = head.GetHeader("X-Connection")!;
        }

        using (var empty = await client.GetAsync(nginx.Http("/empty")))
        {
            Assert.Equal(204, empty.StatusCode);
            Assert.Equal(first, empty.GetHeader("X-Connection"));
        }

        // Disposed without reading: a response without a body is still complete, so the connection stays.
        using var again = await client.GetAsync(nginx.Http("/hello.txt"));
        Assert.Equal(first, again.GetHeader("X-Connection"));
    }, new LoopHttpClientOptions { MaxConnectionsPerOrigin = 1 });

    [Fact]
    public void A_response_not_read_to_its_end_closes_its_connection() => ClientLoops.WithClient(async client =>
    {
        string first;
        using (var big = await client.GetAsync(nginx.Http("/big.bin")))
        {
            var piece = new byte[100];
            Assert.True(await big.Content.ReadAsync(piece) > 0);
            first = big.GetHeader("X-Connection")!;
        }

        using var next = await client.GetAsync(nginx.Http("/hello.txt"));
        Assert.NotEqual(first, next.GetHeader("X-Connection"));
        Assert.Equal("1", next.GetHeader("X-Connection-Requests"));
    }, new LoopHttpClientOptions { MaxConnectionsPerOrigin = 1 });

    [Theory]
    [InlineData("/moved", 301)]
    [InlineData("/found", 302)]
    [InlineData("/see-other", 303)]
    [InlineData("/temporary", 307)]
    public void Follows_redirects(string path, int _) => ClientLoops.WithClient(async client =>
    {
        using var response = await client.GetAsync(nginx.Http(path));
        Assert.Equal(200, response.StatusCode);
        Assert.Equal(1, response.RedirectCount);
        Assert.Equal(nginx.Http("/hello.txt"), response.RequestUri);
        Assert.Equal("Hello, World!", await response.ReadAsStringAsync());
    });

    [Fact]
    public void A_303_after_post_becomes_a_get() => ClientLoops.WithClient(async client =>
    {
        using var response = await client.SendAsync(new LoopHttpRequest("POST", nginx.Http("/see-other")) { Body = RequestBody.FromString("data") });
        Assert.Equal("GET", response.Method);
        Assert.Equal("Hello, World!", await response.ReadAsStringAsync());
    });

    [Fact]
    public void Returns_redirects_as_they_are_when_told_not_to_follow() => ClientLoops.WithClient(async client =>
    {
        using var response = await client.GetAsync(nginx.Http("/moved"));
        Assert.Equal(301, response.StatusCode);
        Assert.EndsWith("/hello.txt", response.GetHeader("Location"), StringComparison.Ordinal);
    }, new LoopHttpClientOptions { MaxRedirects = 0 });

    [Fact]
    public void A_redirect_loop_is_too_many_redirects() => ClientLoops.WithClient(async client =>
    {
        var error = await ClientLoops.Fails(() => client.GetAsync(nginx.Http("/loop")));
        Assert.Equal(LoopHttpErrorKind.TooManyRedirects, error.Kind);
    }, new LoopHttpClientOptions { MaxRedirects = 5 });

    [Fact]
    public void Https_with_a_trusted_private_ca() => ClientLoops.WithClient(async client =>
    {
        var uri = nginx.Https("/hello.txt");
        for (int i = 1; i <= 3; i++)
        {
            using var response = await client.GetAsync(uri);
            Assert.Equal("Hello, World!", await response.ReadAsStringAsync());
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), response.GetHeader("X-Connection-Requests"));
        }

        using var gzip = await client.GetAsync(nginx.Https("/big.txt"));
        Assert.Equal(nginx.BigText, await gzip.ReadAsStringAsync());
    }, new LoopHttpClientOptions { TrustedRootCertificates = [nginx.Ca], MaxConnectionsPerOrigin = 1 });

    [Fact]
    public void Https_validates_certificates_by_default() => ClientLoops.WithClient(async client =>
    {
        var error = await ClientLoops.Fails(() => client.GetAsync(nginx.Https("/hello.txt")));
        Assert.Equal(LoopHttpErrorKind.Tls, error.Kind);
    });

    [Fact]
    public void Https_checks_the_name_even_with_a_trusted_ca()
    {
        // A CA the server's certificate does not chain to: trust must come from the given root, not from anything.
        using var other = System.Security.Cryptography.RSA.Create(2048);
        var request = new CertificateRequest("CN=Other CA", other, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var otherCa = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        ClientLoops.WithClient(async client =>
        {
            var error = await ClientLoops.Fails(() => client.GetAsync(nginx.Https("/hello.txt")));
            Assert.Equal(LoopHttpErrorKind.Tls, error.Kind);
        }, new LoopHttpClientOptions { TrustedRootCertificates = [otherCa] });
    }

    [Fact]
    public void Fetches_many_urls_with_a_concurrency_limit() => ClientLoops.WithClient(async client =>
    {
        var uris = Enumerable.Range(0, 60).Select(i => nginx.Http(i % 3 == 0 ? "/sub/index.html" : "/hello.txt")).Append(new Uri($"http://127.0.0.1:{FreePort.Get()}/refused")).ToList();
        var results = new List<FetchResult>();
        await foreach (var result in client.FetchAllAsync(uris, maxConcurrency: 8))
        {
            results.Add(result);
        }

        Assert.Equal(61, results.Count);
        Assert.Equal(60, results.Count(r => r.Succeeded && r.StatusCode == 200));
        var failed = Assert.Single(results, r => !r.Succeeded);
        Assert.Equal(LoopHttpErrorKind.ConnectionRefused, Assert.IsType<LoopHttpException>(failed.Error).Kind);
        Assert.True(client.OpenConnections(nginx.Http("/")) <= 6);
    });
}
