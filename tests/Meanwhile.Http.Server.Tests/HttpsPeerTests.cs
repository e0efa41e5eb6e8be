using System.Security.Cryptography;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>Real TLS peers against the HTTPS server: curl, Python's ssl and http.client, Node's https, openssl s_client, Chromium.</summary>
public sealed class HttpsPeerTests : IDisposable
{
    private readonly TestCertificates _files = new();
    private readonly string _certificate;
    private readonly string _key;
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _certificateObject;

    public HttpsPeerTests() => (_certificate, _key, _certificateObject) = _files.Server("localhost", "localhost", "127.0.0.1");

    public void Dispose() => _files.Dispose();

    private Task<TestServer> StartAsync(RequestHandler? handler = null, HttpsOptions? https = null) =>
        TestServer.StartAsync(handler ?? EchoHandler.HandleAsync, new HttpServerOptions { Https = https ?? new HttpsOptions { Certificate = ServerCertificate.LoadPem(_certificate, _key) } });

    [ToolFact("curl")]
    public async Task Curl_trusting_the_certificate_gets_http11_over_tls_1_3_and_tls_1_1_is_refused()
    {
        await using var server = await StartAsync();
        var (code, stdout, stderr) = Tool.Run("curl", ["-sS", "--max-time", "20", "--cacert", _certificate, "--http2", "-w", "\n%{http_version} %{ssl_verify_result}", $"https://localhost:{server.Port}/curl"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("\"target\":\"/curl\"", stdout);
        Assert.EndsWith("\n1.1 0", stdout); // ALPN: curl offered h2 and http/1.1, the server chose http/1.1
        var (old, _, oldError) = Tool.Run("curl", ["-sS", "--max-time", "20", "--cacert", _certificate, "--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT@SECLEVEL=0", $"https://localhost:{server.Port}/"]);
        Assert.True(old == 35, $"curl exit {old}: {oldError}"); // CURLE_SSL_CONNECT_ERROR
    }

    [ToolFact("python3")]
    public async Task Python_ssl_and_http_client_verify_the_certificate_and_agree_on_http11()
    {
        await using var server = await StartAsync();
        string script = """
            import http.client, ssl, sys
            context = ssl.create_default_context(cafile=sys.argv[1])
            context.set_alpn_protocols(["h2", "http/1.1"])
            connection = http.client.HTTPSConnection("localhost", int(sys.argv[2]), context=context, timeout=20)
            for i in range(3):
                connection.request("GET", f"/py{i}")
                response = connection.getresponse()
                body = response.read()
                assert response.status == 200 and f"/py{i}".encode() in body, (response.status, body)
            print(connection.sock.version(), connection.sock.selected_alpn_protocol())
            connection.close()
            """;
        var (code, stdout, stderr) = Tool.Run("python3", ["-c", script, _certificate, server.Port.ToString()]);
        Assert.True(code == 0, stderr);
        Assert.Equal("TLSv1.3 http/1.1", stdout.Trim());
    }

    [ToolFact("python3")]
    public async Task A_tls_1_3_client_that_sends_nothing_after_the_handshake_still_gets_its_session_ticket()
    {
        // The server holds its tickets to send them with the first response, but never past its next read: an idle
        // client must not wait for them (it would resume no session).
        await using var server = await StartAsync();
        string script = """
            import socket, ssl, sys, time
            context = ssl.create_default_context(cafile=sys.argv[1])
            context.minimum_version = ssl.TLSVersion.TLSv1_3
            s = context.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))), server_hostname="localhost")
            s.settimeout(0.1)
            deadline = time.monotonic() + 20
            while not (s.session is not None and s.session.has_ticket):
                assert time.monotonic() < deadline, "no session ticket within 20 s"
                try:
                    s.recv(1)  # processes the ticket record; no application data comes
                except socket.timeout:
                    pass
            print("ticket")
            """;
        var (code, stdout, stderr) = Tool.Run("python3", ["-c", script, _certificate, server.Port.ToString()]);
        Assert.True(code == 0, stderr);
        Assert.Equal("ticket", stdout.Trim());
    }

    [ToolFact("node")]
    public async Task Node_https_with_the_certificate_as_ca_gets_its_response()
    {
        await using var server = await StartAsync();
        string script = """
            const https = require("https"), fs = require("fs");
            const [ca, port] = process.argv.slice(1);
            https.get({ host: "localhost", port: +port, path: "/node", ca: fs.readFileSync(ca), ALPNProtocols: ["http/1.1"] }, res => {
              let body = "";
              res.on("data", d => body += d);
              const socket = res.socket; // released to the agent by the end
              res.on("end", () => { console.log(res.statusCode, socket.getProtocol(), socket.alpnProtocol, JSON.parse(body).target); });
            }).on("error", e => { console.error(e.message); process.exit(1); });
            """;
        var (code, stdout, stderr) = Tool.Run("node", ["-e", script, _certificate, server.Port.ToString()]);
        Assert.True(code == 0, stderr);
        Assert.Equal("200 TLSv1.3 http/1.1 /node", stdout.Trim());
    }

    [ToolFact("openssl")]
    public async Task Openssl_s_client_sees_alpn_http11_and_sni_picks_the_certificate()
    {
        var (apiCrt, apiKey, _) = _files.Server("api", "api.example.test");
        await using var server = await StartAsync(https: new HttpsOptions
        {
            Certificate = ServerCertificate.LoadPem(_certificate, _key),
            CertificatesByHost = new Dictionary<string, ServerCertificate> { ["api.example.test"] = ServerCertificate.LoadPem(apiCrt, apiKey) },
        });
        string alpn = SClient(server.Port, "localhost", "-alpn", "h2,http/1.1", "-CAfile", _certificate);
        Assert.Contains("ALPN protocol: http/1.1", alpn);
        Assert.Contains("Verify return code: 0 (ok)", alpn);
        Assert.Contains("HTTP/1.1 200 OK", alpn);
        Assert.Contains("subject=CN = localhost", SClient(server.Port, "localhost"));
        Assert.Contains("subject=CN = api.example.test", SClient(server.Port, "api.example.test"));
        Assert.Contains("subject=CN = localhost", SClient(server.Port, "unknown.example.test"));
    }

    [ToolTheory("openssl")]
    [InlineData("-tls1_3", "TLSv1.3")]
    [InlineData("-tls1_2", "TLSv1.2")]
    public async Task Openssl_s_client_resumes_a_session_from_its_saved_ticket(string version, string name)
    {
        await using var server = await StartAsync();
        string session = Path.Combine(_files.Directory, $"session{version}.pem");
        string first = SClient(server.Port, "localhost", version, "-sess_out", session);
        Assert.Contains($"New, {name}", first);
        string second = SClient(server.Port, "localhost", version, "-sess_in", session);
        Assert.Contains($"Reused, {name}", second);
        Assert.Contains("HTTP/1.1 200 OK", second);
    }

    [ToolTheory("openssl")]
    [InlineData("-tls1")]
    [InlineData("-tls1_1")]
    public async Task Openssl_s_client_cannot_agree_on_tls_1_0_or_1_1(string version)
    {
        await using var server = await StartAsync();
        string output = SClient(server.Port, "localhost", version, "-cipher", "DEFAULT@SECLEVEL=0");
        Assert.DoesNotContain("HTTP/1.1 200 OK", output);
        Assert.Contains("alert protocol version", output);
    }

    /// <summary>One request through <c>openssl s_client</c> (it waits for the response, so TLS 1.3 tickets arrive); its whole output.</summary>
    private static string SClient(int port, string serverName, params string[] extra)
    {
        var (_, stdout, stderr) = Tool.Run("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", serverName, "-ign_eof", .. extra],
            stdin: $"GET /s_client HTTP/1.1\r\nHost: {serverName}\r\nConnection: close\r\n\r\n");
        return stdout + stderr;
    }

    [ToolFact("chromium")]
    public async Task Chromium_loads_a_page_its_stylesheet_and_its_script_over_https()
    {
        string root = Path.Combine(_files.Directory, "site");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "index.html"), """
            <!DOCTYPE html><html><head><meta charset="utf-8"><link rel="stylesheet" href="style.css"><script src="app.js"></script></head>
            <body><p id="style">no style</p><p id="script">no script</p>
            <script>document.getElementById("style").textContent = "color " + getComputedStyle(document.body).color;</script></body></html>
            """);
        File.WriteAllText(Path.Combine(root, "style.css"), "body { color: rgb(1, 2, 3); }\n");
        File.WriteAllText(Path.Combine(root, "app.js"), "addEventListener('DOMContentLoaded', () => { document.getElementById('script').textContent = 'script ran over ' + location.protocol; });\n");
        var requested = new System.Collections.Concurrent.ConcurrentBag<string>();
        var files = new StaticFiles(root);
        await using var server = await StartAsync((request, response) =>
        {
            requested.Add(Encoding.ASCII.GetString(request.Target));
            return files.HandleAsync(request, response);
        });
        // Trust the test certificate by its public key's SHA-256 (the pin Chromium takes), no blanket override.
        string pin = Convert.ToBase64String(SHA256.HashData(_certificateObject.PublicKey.ExportSubjectPublicKeyInfo()));
        var (code, dom, stderr) = Tool.Run("chromium",
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={Path.Combine(_files.Directory, "profile")}",
            $"--ignore-certificate-errors-spki-list={pin}",
            "--virtual-time-budget=10000", "--dump-dom", $"https://localhost:{server.Port}/",
        ], timeoutSeconds: 120);
        Assert.True(code == 0, $"chromium failed ({code}): {stderr}");
        Assert.Contains("<p id=\"style\">color rgb(1, 2, 3)</p>", dom);
        Assert.Contains("<p id=\"script\">script ran over https:</p>", dom);
        Assert.Contains("/style.css", requested);
        Assert.Contains("/app.js", requested);
    }
}
