using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// The two TLS engines: OpenSSL on the descriptor where the socket has one (epoll), SslStream otherwise or on request.
/// What they offer must not differ, and OpenSSL's per-thread error queue must not carry one connection's failure into
/// another's call.
/// </summary>
public sealed class HttpsEngineTests : IDisposable
{
    private readonly TestCertificates _files = new();
    private readonly string _certificate;
    private readonly string _key;

    public HttpsEngineTests() => (_certificate, _key, _) = _files.Server("localhost", "localhost", "127.0.0.1");

    public void Dispose() => _files.Dispose();

    private static ValueTask EngineName(ServerRequest request, ServerResponse response)
    {
        response.Write(Encoding.ASCII.GetBytes($"engine={request.Tls!.Engine} protocol={request.Tls.Protocol} suite={request.Tls.CipherSuite}"));
        return ValueTask.CompletedTask;
    }

    private Task<TestServer> StartAsync(TlsEngineKind? engine, RequestHandler? handler = null) =>
        TestServer.StartAsync(handler ?? EngineName, new HttpServerOptions { Https = new HttpsOptions { Certificate = ServerCertificate.LoadPem(_certificate, _key), Engine = engine } });

    [Fact]
    public async Task Openssl_runs_on_epoll_by_default_and_sslstream_on_the_portable_reactor_or_when_asked()
    {
        await using var automatic = await StartAsync(null);
        await using var sslStream = await StartAsync(TlsEngineKind.SslStream);
        var expected = TestReactor.IsPortable ? TlsEngineKind.SslStream : TlsEngineKind.OpenSsl;
        using (var client = TlsTestClient.Connect(automatic.Port))
        {
            Assert.Equal($"engine={expected} protocol=Tls13 suite={client.Ssl.NegotiatedCipherSuite}", client.Get("/").Body);
        }
        using (var client = TlsTestClient.Connect(sslStream.Port, protocols: SslProtocols.Tls12))
        {
            Assert.Equal($"engine=SslStream protocol=Tls12 suite={client.Ssl.NegotiatedCipherSuite}", client.Get("/").Body);
        }
    }

    [ToolFact("openssl")]
    public async Task Both_engines_accept_the_same_tls_1_2_suites_and_groups()
    {
        await using var automatic = await StartAsync(null);
        await using var sslStream = await StartAsync(TlsEngineKind.SslStream);
        var (_, list, _) = Tool.Run("openssl", ["ciphers", "ALL:@SECLEVEL=0"]);
        var ecdsaSuites = list.Trim().Split(':').Where(name => name.Contains("ECDSA") && !name.StartsWith("TLS_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(ecdsaSuites);
        var accepted = (Automatic: new List<string>(), SslStream: new List<string>());
        foreach (string suite in ecdsaSuites)
        {
            if (Accepts(automatic.Port, "-tls1_2", "-cipher", suite + ":@SECLEVEL=0")) accepted.Automatic.Add(suite);
            if (Accepts(sslStream.Port, "-tls1_2", "-cipher", suite + ":@SECLEVEL=0")) accepted.SslStream.Add(suite);
        }
        Assert.NotEmpty(accepted.SslStream);
        Assert.Equal(accepted.SslStream, accepted.Automatic);
        foreach (string group in new[] { "X25519", "P-256", "P-384", "P-521", "X448", "ffdhe2048" })
        {
            Assert.True(Accepts(automatic.Port, "-tls1_3", "-groups", group) == Accepts(sslStream.Port, "-tls1_3", "-groups", group), group);
        }
    }

    /// <summary>s_client with one request (the TLS 1.3 tickets come with its response).</summary>
    private static string SClient(int port, params string[] extra)
    {
        var (_, stdout, stderr) = Tool.Run("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "localhost", "-ign_eof", .. extra],
            stdin: "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        return stdout + stderr;
    }

    private static bool Accepts(int port, params string[] extra)
    {
        var (code, stdout, _) = Tool.Run("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "localhost", .. extra], stdin: "");
        return code == 0 && stdout.Contains("Cipher is ") && !stdout.Contains("Cipher is (NONE)");
    }

    [Fact]
    public async Task A_failed_handshake_and_a_failed_crypto_call_in_a_handler_do_not_fail_other_connections_on_the_loop()
    {
        // OpenSSL's error queue is per thread, and every connection of a loop shares that thread: a failure must leave
        // it empty, or the next connection's would-block would read as a fatal error.
        RequestHandler handler = (request, response) =>
        {
            if (request.Target.SequenceEqual("/fail"u8))
            {
                // .NET's own OpenSSL calls, failing on the loop thread.
                try { X509CertificateLoader.LoadCertificate(new byte[] { 0x30, 0x03, 0x02, 0x01 }); }
                catch (CryptographicException) { }
                try { using var rsa = RSA.Create(); rsa.ImportFromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"); }
                catch (Exception e) when (e is CryptographicException or ArgumentException) { }
            }
            response.Write("ok"u8);
            return ValueTask.CompletedTask;
        };
        await using var server = await StartAsync(null, handler);
        using var idle = TlsTestClient.Connect(server.Port); // waits inside SSL_read while the others fail
        Assert.Equal("ok", idle.Get("/").Body);
        for (int i = 0; i < 3; i++)
        {
            using (var garbage = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 })
            {
                garbage.Connect(System.Net.IPAddress.Loopback, server.Port);
                // A handshake record whose hello is nonsense: OpenSSL fails it with errors queued.
                garbage.Send([0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef]);
                var buffer = new byte[256];
                try { while (garbage.Receive(buffer) > 0) { } } catch (SocketException) { }
            }
            using (var failing = TlsTestClient.Connect(server.Port)) Assert.Equal("ok", failing.Get("/fail").Body);
            Assert.Equal("ok", idle.Get($"/after{i}").Body);
            using var fresh = TlsTestClient.Connect(server.Port);
            Assert.Equal("ok", fresh.Get("/").Body);
        }
    }

    [Fact]
    public async Task A_reload_keeps_an_open_connection_on_its_certificate_and_new_ones_resume_nothing_from_before()
    {
        var (crt, key, first) = _files.Server("site", "localhost");
        await using var server = await TestServer.StartAsync(EngineName, new HttpServerOptions { Https = new HttpsOptions { Certificate = ServerCertificate.LoadPem(crt, key) } });
        using var open = TlsTestClient.Connect(server.Port);
        Assert.StartsWith("engine=", open.Get("/").Body);
        var (_, _, second) = _files.Server("site", "localhost");
        for (int reload = 0; reload < 3; reload++)
        {
            Assert.Equal(1, server.Server.ReloadCertificates());
            GC.Collect(); // the old OpenSSL contexts may go now: the open session holds its own reference
            GC.WaitForPendingFinalizers();
            using var fresh = TlsTestClient.Connect(server.Port);
            Assert.Equal(second.Thumbprint, fresh.ServerCertificate.Thumbprint);
            Assert.Equal(200, fresh.Get("/").Status);
            Assert.Equal(200, open.Get($"/still{reload}").Status);
            Assert.Equal(first.Thumbprint, open.ServerCertificate.Thumbprint);
        }
    }

    [ToolFact("openssl")]
    public async Task A_cipher_policy_keeps_resumption_with_the_openssl_engine()
    {
        if (TestReactor.IsPortable) return; // SslStream: a policy costs resumption (docs/security.md)
        await using var server = await TestServer.StartAsync(EngineName, new HttpServerOptions
        {
            Https = new HttpsOptions
            {
                Certificate = ServerCertificate.LoadPem(_certificate, _key),
                CipherSuites = [TlsCipherSuite.TLS_AES_128_GCM_SHA256, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256],
            },
        });
        string session = Path.Combine(_files.Directory, "policy-session.pem");
        foreach (var (version, name, suite) in new[] { ("-tls1_3", "TLSv1.3", "TLS_AES_128_GCM_SHA256"), ("-tls1_2", "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256") })
        {
            string first = SClient(server.Port, version, "-sess_out", session);
            Assert.True(first.Contains($"New, {name}, Cipher is {suite}"), first);
            string second = SClient(server.Port, version, "-sess_in", session);
            Assert.True(second.Contains($"Reused, {name}, Cipher is {suite}"), second);
        }
        Assert.False(Accepts(server.Port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"));
    }
}
