using System.Text;

namespace Meanwhile.Http.Proxy.Tests;

/// <summary>nginx serving static files (a page whose assets count their own load events, and hello.txt) in the foreground.</summary>
internal sealed class NginxUpstream : IDisposable
{
    private readonly PeerProcess _process;

    private NginxUpstream(PeerProcess process, int port)
    {
        _process = process;
        Uri = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Uri { get; }

    public static NginxUpstream Start(TempDir dir, out int assets)
    {
        int port = FreePort.Get();
        // nginx's workers run as nobody: the files must be readable by others.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dir.Path, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(dir["html"]);
        Directory.CreateDirectory(dir["logs"]);
        Directory.CreateDirectory(dir["tmp"]);
        File.WriteAllText(dir["html/hello.txt"], "Hello, World!");
        assets = WritePage(dir);
        File.WriteAllText(dir["nginx.conf"], $$"""
            daemon off;
            worker_processes 1;
            error_log stderr notice;
            pid {{dir["nginx.pid"]}};
            events { worker_connections 1024; }
            http {
              access_log off;
              client_body_temp_path {{dir["tmp"]}};
              proxy_temp_path {{dir["tmp"]}};
              fastcgi_temp_path {{dir["tmp"]}};
              uwsgi_temp_path {{dir["tmp"]}};
              scgi_temp_path {{dir["tmp"]}};
              types { text/plain txt; text/html html; text/css css; application/javascript js; image/svg+xml svg; }
              keepalive_requests 100000;
              server { listen 127.0.0.1:{{port}}; root {{dir["html"]}}; }
            }
            """);
        string nginx = File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
        var (process, _) = PeerProcess.Start(nginx, ["-p", dir.Path, "-c", dir["nginx.conf"], "-e", "stderr"], "start worker process");
        return new NginxUpstream(process, port);
    }

    /// <summary>index.html with style sheets, scripts and images that count their load events into the DOM.</summary>
    private static int WritePage(TempDir dir)
    {
        const int Each = 5;
        var head = new StringBuilder();
        var body = new StringBuilder();
        for (int i = 0; i < Each; i++)
        {
            File.WriteAllText(dir[$"html/style{i}.css"], $".box{i} {{ width: {10 + i}px; }}\n");
            head.Append($"<link rel=\"stylesheet\" href=\"style{i}.css\" onload=\"mark()\" onerror=\"fail()\">\n");
            File.WriteAllText(dir[$"html/script{i}.js"], $"window.script{i} = {i};\n");
            head.Append($"<script src=\"script{i}.js\" onload=\"mark()\" onerror=\"fail()\"></script>\n");
            File.WriteAllText(dir[$"html/shape{i}.svg"], $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" height=\"20\"><circle cx=\"10\" cy=\"10\" r=\"{3 + i}\"/></svg>");
            body.Append($"<img src=\"shape{i}.svg\" onload=\"mark()\" onerror=\"fail()\">\n");
        }
        File.WriteAllText(dir["html/index.html"], $$"""
            <!doctype html>
            <html><head><script>
            let loaded = 0, failed = 0;
            function show() { document.getElementById('result').textContent = `loaded: ${loaded} failed: ${failed}`; }
            function mark() { loaded++; if (document.getElementById('result')) show(); }
            function fail() { failed++; if (document.getElementById('result')) show(); }
            window.addEventListener('load', show);
            </script>
            {{head}}</head><body><p id="result"></p>
            {{body}}</body></html>
            """);
        return Each * 3;
    }

    public void Dispose() => _process.Dispose();
}
