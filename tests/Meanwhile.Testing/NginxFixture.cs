using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;

namespace Meanwhile.Testing;

/// <summary>
/// nginx with a generated config in a temp dir, in the foreground (<c>daemon off</c>), on free loopback ports:
/// plain HTTP and HTTPS with a certificate from a CA made here with openssl. Every response carries the
/// connection's serial number and its request count, so tests can see keep-alive reuse from the server's side.
/// </summary>
public sealed class NginxFixture : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly PeerProcess _process;

    public NginxFixture()
    {
        Port = FreePort.Get();
        TlsPort = FreePort.Get();
        Directory.CreateDirectory(_dir["html"]);
        Directory.CreateDirectory(_dir["html/sub"]);
        Directory.CreateDirectory(_dir["logs"]);
        File.WriteAllText(_dir["html/hello.txt"], "Hello, World!");
        File.WriteAllText(_dir["html/sub/index.html"], "<p>index</p>");
        BigText = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"line {i} of a compressible text\n"));
        File.WriteAllText(_dir["html/big.txt"], BigText);
        BigBinary = new byte[3_000_000];
        new Random(5).NextBytes(BigBinary);
        File.WriteAllBytes(_dir["html/big.bin"], BigBinary);

        MakeCertificates();
        File.WriteAllText(_dir["nginx.conf"], $$"""
            daemon off;
            worker_processes 1;
            error_log stderr notice;
            pid {{_dir["nginx.pid"]}};
            events { worker_connections 1024; }
            http {
              access_log off;
              client_body_temp_path {{_dir["tmp"]}};
              proxy_temp_path {{_dir["tmp"]}};
              fastcgi_temp_path {{_dir["tmp"]}};
              uwsgi_temp_path {{_dir["tmp"]}};
              scgi_temp_path {{_dir["tmp"]}};
              types { text/plain txt; text/html html; application/octet-stream bin; }
              keepalive_requests 1000;
              gzip on; gzip_min_length 0; gzip_types text/plain;
              server {
                listen 127.0.0.1:{{Port}};
                listen 127.0.0.1:{{TlsPort}} ssl;
                server_name localhost;
                ssl_certificate {{_dir["server.crt"]}};
                ssl_certificate_key {{_dir["server.key"]}};
                root {{_dir["html"]}};
                add_header X-Connection $connection always;
                add_header X-Connection-Requests $connection_requests always;
                location = /moved { return 301 /hello.txt; }
                location = /found { return 302 /hello.txt; }
                location = /see-other { return 303 /hello.txt; }
                location = /temporary { return 307 /hello.txt; }
                location = /loop { return 302 /loop; }
                location = /empty { return 204; }
              }
            }
            """);
        Directory.CreateDirectory(_dir["tmp"]);
        (_process, _) = PeerProcess.Start("nginx", ["-p", _dir.Path, "-c", _dir["nginx.conf"], "-e", "stderr"], line => line.Contains("start worker process", StringComparison.Ordinal));
    }

    public int Port { get; }

    public int TlsPort { get; }

    public string BigText { get; }

    public byte[] BigBinary { get; }

    /// <summary>The CA that signed nginx's certificate.</summary>
    public X509Certificate2 Ca { get; private set; } = null!;

    public Uri Http(string path) => new($"http://127.0.0.1:{Port}{path}");

    public Uri Https(string path, string host = "localhost") => new($"https://{host}:{TlsPort}{path}");

    public void Dispose()
    {
        _process.Dispose();
        _dir.Dispose();
    }

    private void MakeCertificates()
    {
        void OpenSsl(params string[] args)
        {
            var info = new ProcessStartInfo("openssl") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = _dir.Path };
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            using var p = Process.Start(info)!;
            string errors = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"openssl {string.Join(' ', args)} failed: {errors}");
            }
        }

        OpenSsl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Meanwhile Test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        OpenSsl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
        File.WriteAllText(_dir["server.ext"], "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
        OpenSsl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext");
        Ca = X509CertificateLoader.LoadCertificateFromFile(_dir["ca.crt"]);
    }
}
