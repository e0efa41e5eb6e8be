using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>The server over TLS: protocols and ALPN, SNI, client certificates, certificate files and their reload.</summary>
public sealed class HttpsTests
{
    private static ValueTask Hello(ServerRequest request, ServerResponse response)
    {
        var tls = request.Tls!;
        string client = tls.RemoteCertificate is { } certificate ? new X509Certificate2(certificate).GetNameInfo(X509NameType.SimpleName, false) : "-";
        response.AddHeader("Content-Type", "text/plain");
        response.Write(Encoding.UTF8.GetBytes($"https={request.IsHttps} sni={tls.HostName} alpn={tls.NegotiatedApplicationProtocol} client={client} path={Encoding.ASCII.GetString(request.Target)}"));
        return ValueTask.CompletedTask;
    }

    private static Task<TestServer> StartAsync(HttpsOptions https, RequestHandler? handler = null) =>
        TestServer.StartAsync(handler ?? Hello, new HttpServerOptions { Https = https });

    [Fact]
    public async Task A_request_over_https_is_answered_with_tls_1_3_and_alpn_http11()
    {
        using var files = new TestCertificates();
        var (crt, key, certificate) = files.Server("localhost", "localhost", "127.0.0.1");
        await using var server = await StartAsync(new HttpsOptions { Certificate = ServerCertificate.LoadPem(crt, key) });
        using var client = TlsTestClient.Connect(server.Port, trusted: certificate);
        Assert.Equal(SslProtocols.Tls13, client.Ssl.SslProtocol);
        Assert.Equal(SslApplicationProtocol.Http11, client.Ssl.NegotiatedApplicationProtocol);
        for (int i = 0; i < 3; i++) // keep-alive: three requests on one session
        {
            var (status, _, body) = client.Get($"/r{i}");
            Assert.Equal(200, status);
            Assert.Equal($"https=True sni=localhost alpn=http/1.1 client=- path=/r{i}", body);
        }
    }

    [Fact]
    public async Task Cipher_suites_can_be_restricted()
    {
        using var files = new TestCertificates();
        var (crt, key, _) = files.Server("localhost", "localhost");
        await using var server = await StartAsync(new HttpsOptions
        {
            Certificate = ServerCertificate.LoadPem(crt, key),
            CipherSuites = [TlsCipherSuite.TLS_AES_256_GCM_SHA384, TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384],
        });
        using (var client = TlsTestClient.Connect(server.Port)) Assert.Equal(SslProtocols.Tls13, client.Ssl.SslProtocol);
        using (var client = TlsTestClient.Connect(server.Port, protocols: SslProtocols.Tls12))
            Assert.Equal(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, client.Ssl.NegotiatedCipherSuite);
    }

    [Fact]
    public async Task Tls_1_2_is_accepted_with_a_forward_secret_aead_suite()
    {
        using var files = new TestCertificates();
        var (crt, key, _) = files.Server("localhost", "localhost");
        await using var server = await StartAsync(new HttpsOptions { Certificate = ServerCertificate.LoadPem(crt, key) });
        using var client = TlsTestClient.Connect(server.Port, protocols: SslProtocols.Tls12);
        Assert.Equal(SslProtocols.Tls12, client.Ssl.SslProtocol);
        Assert.Contains("ECDHE_ECDSA", client.Ssl.NegotiatedCipherSuite.ToString());
        Assert.True(client.Ssl.NegotiatedCipherSuite.ToString().Contains("GCM") || client.Ssl.NegotiatedCipherSuite.ToString().Contains("CHACHA20"));
        Assert.Equal(200, client.Get("/").Status);
    }

    [Fact]
    public async Task Sni_picks_the_certificate_by_exact_name_then_wildcard_then_the_default()
    {
        using var files = new TestCertificates();
        var (dCrt, dKey, fallback) = files.Server("default", "default.test");
        var (aCrt, aKey, api) = files.Server("api", "api.example.test");
        var (wCrt, wKey, wildcard) = files.Server("wild", "*.example.test");
        await using var server = await StartAsync(new HttpsOptions
        {
            Certificate = ServerCertificate.LoadPem(dCrt, dKey),
            CertificatesByHost = new Dictionary<string, ServerCertificate>
            {
                ["API.example.test"] = ServerCertificate.LoadPem(aCrt, aKey),
                ["*.example.test"] = ServerCertificate.LoadPem(wCrt, wKey),
            },
        });
        using (var client = TlsTestClient.Connect(server.Port, host: "api.example.test")) Assert.Equal(api.Thumbprint, client.ServerCertificate.Thumbprint);
        using (var client = TlsTestClient.Connect(server.Port, host: "www.example.test")) Assert.Equal(wildcard.Thumbprint, client.ServerCertificate.Thumbprint);
        using (var client = TlsTestClient.Connect(server.Port, host: "a.b.example.test")) Assert.Equal(fallback.Thumbprint, client.ServerCertificate.Thumbprint); // one label only
        using (var client = TlsTestClient.Connect(server.Port, host: "other.test"))
        {
            Assert.Equal(fallback.Thumbprint, client.ServerCertificate.Thumbprint);
            Assert.Contains("sni=other.test", client.Get("/").Body);
        }
    }

    [Fact]
    public async Task A_certificate_selector_is_asked_first_and_null_falls_through_to_the_default()
    {
        using var files = new TestCertificates();
        var (dCrt, dKey, fallback) = files.Server("default", "default.test");
        var (sCrt, sKey, special) = files.Server("special", "special.test");
        var chosen = ServerCertificate.LoadPem(sCrt, sKey);
        var asked = new List<string?>();
        await using var server = await StartAsync(new HttpsOptions
        {
            Certificate = ServerCertificate.LoadPem(dCrt, dKey),
            CertificateSelector = host =>
            {
                lock (asked) asked.Add(host);
                return host == "special.test" ? chosen : null;
            },
        });
        using (var client = TlsTestClient.Connect(server.Port, host: "special.test")) Assert.Equal(special.Thumbprint, client.ServerCertificate.Thumbprint);
        using (var client = TlsTestClient.Connect(server.Port, host: "plain.test")) Assert.Equal(fallback.Thumbprint, client.ServerCertificate.Thumbprint);
        lock (asked) Assert.Equal(["special.test", "plain.test"], asked);
    }

    [Fact]
    public async Task A_host_with_no_certificate_fails_its_handshake_and_the_log_says_why()
    {
        using var files = new TestCertificates();
        var (crt, key, _) = files.Server("known", "known.test");
        var known = ServerCertificate.LoadPem(crt, key);
        var log = new LineSignal("No certificate for the host name 'unknown.test'");
        await using var server = await TestServer.StartAsync(Hello, new HttpServerOptions
        {
            Https = new HttpsOptions { CertificateSelector = host => host == "known.test" ? known : null },
            LoggerFactory = new Meanwhile.Testing.WriterLoggerFactory(log),
        });
        Assert.ThrowsAny<Exception>(() => TlsTestClient.Connect(server.Port, host: "unknown.test"));
        // The selector's reason, not only the engine's alert: OpenSSL's callbacks can only fail, so the engine keeps it.
        await log.Seen.WaitAsync(TimeSpan.FromSeconds(30));
        using (var client = TlsTestClient.Connect(server.Port, host: "known.test")) Assert.Equal(200, client.Get("/").Status);
    }

    /// <summary>A log writer whose task completes once a line containing <c>text</c> is written.</summary>
    private sealed class LineSignal(string text) : StringWriter
    {
        private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Seen => _seen.Task;

        public override void WriteLine(string? value)
        {
            if (value is not null && value.Contains(text, StringComparison.Ordinal)) _seen.TrySetResult();
        }
    }

    [Fact]
    public async Task A_required_client_certificate_is_judged_by_the_validation_callback()
    {
        using var files = new TestCertificates();
        var (crt, key, _) = files.Server("localhost", "localhost");
        var (authority, clientCertificate) = files.ClientSignedBy("alice");
        var (_, stranger) = files.ClientSignedBy("mallory"); // signed by another authority
        await using var server = await StartAsync(new HttpsOptions
        {
            Certificate = ServerCertificate.LoadPem(crt, key),
            ClientCertificates = ClientCertificatePolicy.Required,
            ClientCertificateValidation = (certificate, _, _) =>
            {
                if (certificate is null) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(authority);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate);
            },
        });
        using (var client = TlsTestClient.Connect(server.Port, clientCertificate: clientCertificate))
            Assert.Contains("client=alice", client.Get("/").Body);
        // Refused: TLS 1.3 reports the client's rejection after the client's handshake ends, at its first read.
        Assert.ThrowsAny<Exception>(() =>
        {
            using var client = TlsTestClient.Connect(server.Port, clientCertificate: stranger);
            client.Get("/");
        });
        Assert.ThrowsAny<Exception>(() =>
        {
            using var client = TlsTestClient.Connect(server.Port);
            client.Get("/");
        });
    }

    [Fact]
    public async Task An_optional_client_certificate_lets_clients_without_one_in()
    {
        using var files = new TestCertificates();
        var (crt, key, _) = files.Server("localhost", "localhost");
        var (_, clientCertificate) = files.ClientSignedBy("bob");
        await using var server = await StartAsync(new HttpsOptions
        {
            Certificate = ServerCertificate.LoadPem(crt, key),
            ClientCertificates = ClientCertificatePolicy.Optional,
            ClientCertificateValidation = (certificate, _, _) => certificate?.GetNameInfo(X509NameType.SimpleName, false) == "bob",
        });
        using (var client = TlsTestClient.Connect(server.Port)) Assert.Contains("client=-", client.Get("/").Body);
        using (var client = TlsTestClient.Connect(server.Port, clientCertificate: clientCertificate)) Assert.Contains("client=bob", client.Get("/").Body);
    }

    [Fact]
    public async Task Reloaded_certificates_serve_new_handshakes_while_open_connections_keep_going()
    {
        using var files = new TestCertificates();
        var (crt, key, first) = files.Server("site", "localhost");
        await using var server = await StartAsync(new HttpsOptions { Certificate = ServerCertificate.LoadPem(crt, key) });
        using var open = TlsTestClient.Connect(server.Port);
        Assert.Equal(first.Thumbprint, open.ServerCertificate.Thumbprint);
        Assert.Equal(200, open.Get("/before").Status);

        var (_, _, second) = files.Server("site", "localhost"); // new files at the same paths
        Assert.Equal(1, server.Server.ReloadCertificates());

        using var fresh = TlsTestClient.Connect(server.Port);
        Assert.Equal(second.Thumbprint, fresh.ServerCertificate.Thumbprint);
        Assert.Equal(200, open.Get("/after").Status); // the connection from before the reload was not dropped
        Assert.Equal(200, fresh.Get("/").Status);
    }

    [Fact]
    public async Task A_reload_that_fails_keeps_the_certificates_in_use_and_names_the_files()
    {
        using var files = new TestCertificates();
        var (crt, key, first) = files.Server("site", "localhost");
        await using var server = await StartAsync(new HttpsOptions { Certificate = ServerCertificate.LoadPem(crt, key) });
        files.Server("other", "localhost");
        File.Copy(Path.Combine(files.Directory, "other.key"), key, overwrite: true); // a key of another certificate
        var refused = Assert.Throws<CertificateLoadException>(() => server.Server.ReloadCertificates());
        Assert.Contains(crt, refused.Message);
        Assert.Contains(key, refused.Message);
        using var client = TlsTestClient.Connect(server.Port);
        Assert.Equal(first.Thumbprint, client.ServerCertificate.Thumbprint);
    }

    [Fact]
    public void A_key_that_does_not_match_its_certificate_is_refused_naming_both_files()
    {
        using var files = new TestCertificates();
        var (crt, _, _) = files.Server("one", "localhost");
        var (_, otherKey, _) = files.Server("two", "localhost");
        var refused = Assert.Throws<CertificateLoadException>(() => ServerCertificate.LoadPem(crt, otherKey));
        Assert.Equal($"the key in {otherKey} does not match the certificate in {crt}", refused.Message);
        Assert.Equal(crt, refused.CertificatePath);
        Assert.Equal(otherKey, refused.KeyPath);
        var missing = Assert.Throws<CertificateLoadException>(() => ServerCertificate.LoadPem(crt + ".missing", otherKey));
        Assert.Contains(crt + ".missing", missing.Message);
    }

    [Fact]
    public async Task A_pfx_with_its_chain_serves_and_a_pem_chain_is_sent_whole()
    {
        using var files = new TestCertificates();
        var (_, leafWithKey) = files.ClientSignedBy("localhost"); // any certificate with a key
        string pfx = Path.Combine(files.Directory, "site.pfx");
        File.WriteAllBytes(pfx, leafWithKey.Export(X509ContentType.Pkcs12, "secret"));
        await using var server = await StartAsync(new HttpsOptions { Certificate = ServerCertificate.LoadPfx(pfx, "secret") });
        using var client = TlsTestClient.Connect(server.Port);
        Assert.Equal(leafWithKey.Thumbprint, client.ServerCertificate.Thumbprint);
        Assert.Throws<CertificateLoadException>(() => ServerCertificate.LoadPfx(pfx, "wrong"));
    }

    [Fact]
    public async Task Static_files_go_out_over_tls_without_sendfile()
    {
        using var files = new TestCertificates();
        var (crt, key, _) = files.Server("localhost", "localhost");
        string root = Path.Combine(files.Directory, "site");
        Directory.CreateDirectory(root);
        var content = new byte[300_000];
        new Random(7).NextBytes(content);
        File.WriteAllBytes(Path.Combine(root, "blob.bin"), content);
        var statics = new StaticFiles(root);
        await using var server = await StartAsync(new HttpsOptions { Certificate = ServerCertificate.LoadPem(crt, key) }, statics.HandleAsync);
        using var client = TlsTestClient.Connect(server.Port);
        var (status, _, body) = client.Get("/blob.bin");
        Assert.Equal(200, status);
        Assert.Equal(content, Encoding.Latin1.GetBytes(body));
    }
}
