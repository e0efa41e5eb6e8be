using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Meanwhile.Cli.Tests;

/// <summary>The tool over HTTPS: serve and echo with certificate files or a self-signed certificate, fetch and bench with --cacert.</summary>
public sealed partial class HttpsToolTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("meanwhile-tool-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>An ECDSA P-256 certificate for localhost and 127.0.0.1, written as name.crt and name.key.</summary>
    private (string Certificate, string Key) WriteCertificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        string crt = Path.Combine(_directory, name + ".crt"), pem = Path.Combine(_directory, name + ".key");
        File.WriteAllText(crt, certificate.ExportCertificatePem());
        File.WriteAllText(pem, key.ExportPkcs8PrivateKeyPem());
        return (crt, pem);
    }

    private static (int ExitCode, string Stdout, string Stderr) Curl(params string[] args) => Run("curl", ["-sS", "--max-time", "20", .. args]);

    private static (int ExitCode, string Stdout, string Stderr) Run(string program, string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000)) throw new TimeoutException($"{program} did not finish");
        return (process.ExitCode, stdout, stderr.Result);
    }

    [Fact]
    public void Serve_with_a_self_signed_certificate_says_where_it_wrote_it_and_its_fingerprint_and_curl_trusts_it()
    {
        using var serve = ToolProcess.Start("serve", "--port", "0", "--loops", "1", "--tls-self-signed");
        var url = serve.WaitListening();
        Assert.Equal("https", url.Scheme);
        var written = WrittenTo().Match(serve.Stderr);
        Assert.True(written.Success, serve.Stderr);
        string certificate = written.Groups[1].Value;
        string fingerprint = Fingerprint().Match(serve.Stderr).Groups[1].Value;
        Assert.Equal($"sha256 Fingerprint={fingerprint}", Run("openssl", ["x509", "-in", certificate, "-noout", "-fingerprint", "-sha256"]).Stdout.Trim());

        var page = Curl("--cacert", certificate, $"https://localhost:{url.Port}/");
        Assert.Equal(0, page.ExitCode);
        Assert.Contains("Served by Meanwhile", page.Stdout);
        Assert.Equal(0, Curl("--cacert", certificate, "-o", "/dev/null", $"https://127.0.0.1:{url.Port}/style.css").ExitCode); // the address is in the certificate too
        Assert.NotEqual(0, Curl($"https://localhost:{url.Port}/").ExitCode); // not trusted without it

        serve.Signal(Signals.Hup);
        serve.WaitForStderr("SIGHUP: reloaded 1 certificate");
        Assert.Equal(0, Curl("--cacert", certificate, "-o", "/dev/null", $"https://localhost:{url.Port}/").ExitCode); // still serving
        serve.Terminate();
        Assert.Equal(0, serve.WaitForExit());
        Assert.False(File.Exists(certificate)); // its files go with the server
    }

    [Fact]
    public void Echo_with_certificate_files_serves_fetch_and_bench_given_cacert()
    {
        var (crt, key) = WriteCertificate("site");
        using var echo = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "-q", "--tls-cert", crt, "--tls-key", key);
        var url = echo.WaitListening();
        string https = $"https://localhost:{url.Port}/hello";

        var fetched = ToolProcess.Run("fetch", "--cacert", crt, "--json", https);
        Assert.True(fetched.ExitCode == 0, fetched.Stderr);
        Assert.Contains("\"status\": 200", fetched.Stdout);
        var refused = ToolProcess.Run("fetch", https);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("UntrustedRoot", refused.Stderr);

        // A generous timeout: the first TLS handshakes of a cold process on a loaded machine can take seconds.
        var bench = ToolProcess.Run("bench", "--cacert", crt, "-c", "2", "-d", "5s", "--timeout", "30s", "--json", https);
        Assert.True(bench.ExitCode == 0, bench.Stderr);
        Assert.True(System.Text.Json.JsonDocument.Parse(bench.Stdout).RootElement.GetProperty("requests").GetInt64() > 0, bench.Stdout);
        echo.Terminate();
        Assert.Equal(0, echo.WaitForExit());
    }

    [Fact]
    public void A_certificate_that_does_not_match_its_key_is_refused_at_start_with_one_line_naming_both_files()
    {
        var (crt, _) = WriteCertificate("one");
        var (_, otherKey) = WriteCertificate("two");
        var (code, stdout, stderr) = ToolProcess.Run("serve", "--port", "0", "--tls-cert", crt, "--tls-key", otherKey);
        Assert.Equal(1, code);
        Assert.Equal($"meanwhile: cannot serve HTTPS: the key in {otherKey} does not match the certificate in {crt}\n", stderr);
        Assert.DoesNotContain("listening", stdout);
    }

    [Fact]
    public void Https_offers_no_cbc_suite_yet_resumes_sessions_and_an_openssl_configuration_of_the_users_wins()
    {
        var (crt, key) = WriteCertificate("server");
        const string cbc = "ECDHE-ECDSA-AES128-SHA256";
        using (var serve = ToolProcess.Start("serve", "--port", "0", "--loops", "1", "--tls-cert", crt, "--tls-key", key))
        {
            int port = serve.WaitListening().Port;
            string refused = SClient(port, "-tls1_2", "-cipher", cbc);
            Assert.DoesNotContain("HTTP/1.1 200 OK", refused);
            Assert.Contains("handshake failure", refused);
            Assert.Contains("HTTP/1.1 200 OK", SClient(port, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"));
            foreach (var (version, name) in new[] { ("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3") })
            {
                string session = Path.Combine(_directory, $"session{version}.pem");
                Assert.Contains($"New, {name}", SClient(port, version, "-sess_out", session));
                string resumed = SClient(port, version, "-sess_in", session);
                Assert.Contains($"Reused, {name}", resumed);
                Assert.Contains("HTTP/1.1 200 OK", resumed);
            }
            serve.Terminate();
            Assert.Equal(0, serve.WaitForExit());
        }
        // OPENSSL_CONF is the user's choice, taken as is: here OpenSSL's own default list, CBC suites included.
        string configuration = Path.Combine(_directory, "default-ciphers.cnf");
        File.WriteAllText(configuration, """
            openssl_conf = test_init
            [test_init]
            ssl_conf = test_ssl
            [test_ssl]
            system_default = test_tls
            [test_tls]
            CipherString = DEFAULT:@SECLEVEL=2
            """);
        using var configured = ToolProcess.StartWith(["env", $"OPENSSL_CONF={configuration}"], "serve", "--port", "0", "--loops", "1", "--tls-cert", crt, "--tls-key", key);
        Assert.Contains("HTTP/1.1 200 OK", SClient(configured.WaitListening().Port, "-tls1_2", "-cipher", cbc));
        configured.Terminate();
        Assert.Equal(0, configured.WaitForExit());
    }

    /// <summary>One request through <c>openssl s_client</c> (it waits for the response, so TLS 1.3 tickets arrive); its whole output.</summary>
    private static string SClient(int port, params string[] extra)
    {
        var info = new System.Diagnostics.ProcessStartInfo("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "localhost", "-ign_eof", .. extra])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(info)!;
        process.StandardInput.Write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000)) throw new TimeoutException("openssl s_client did not finish");
        return stdout + stderr.Result;
    }

    [GeneratedRegex(@"written to (\S+/cert\.pem)")]
    private static partial Regex WrittenTo();

    [GeneratedRegex("SHA-256 fingerprint ([0-9A-F:]{95})")]
    private static partial Regex Fingerprint();
}
