using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Win32.SafeHandles;

namespace Meanwhile.Http.Server.Tests;

/// <summary>The access log: nginx's formats byte for byte, JSON, and a slow output that never stalls the loop.</summary>
public sealed partial class AccessLogTests : IDisposable
{
    private readonly StaticSite _site = new();

    public AccessLogTests() => _site.Write("index.html", "Hello, World!");

    public void Dispose() => _site.Dispose();

    [GeneratedRegex(@"^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] ""GET /\?n=\d+ HTTP/1\.1"" 200 13$")]
    private static partial Regex CommonLine();

    [GeneratedRegex(@"\[[^\]]+\]")]
    private static partial Regex TimeField();

    [Fact]
    public void Access_log_options_are_a_record_so_a_copy_changes_one_setting_and_keeps_its_checks()
    {
        var options = new AccessLogOptions { Format = AccessLogFormat.Common, BufferBytes = 8192 };
        var copy = options with { BufferBytes = 16384 };
        Assert.Equal(AccessLogFormat.Common, copy.Format);
        Assert.Equal(16384, copy.BufferBytes);
        Assert.Equal(8192, options.BufferBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => options with { BufferBytes = 10 });
    }

    [Fact]
    public async Task A_pipe_nobody_reads_never_stalls_requests_and_the_lines_it_cannot_take_are_dropped_whole_and_counted()
    {
        string fifo = Path.Combine(_site.Base, "log.fifo");
        Assert.Equal(0, Tool.Run("mkfifo", [fifo]).ExitCode);
        // Read-write, so the FIFO has a reader (a writer's open does not fail) that never reads until the end.
        using var pipe = File.OpenHandle(fifo, FileMode.Open, FileAccess.ReadWrite);
        long metered = 0;
        using var meter = new MeterListener();
        meter.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "meanwhile.http.server.access_log.dropped") listener.EnableMeasurementEvents(instrument);
        };
        meter.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref metered, value));
        meter.Start();

        var log = AccessLog.ToFile(fifo, new AccessLogOptions { Format = AccessLogFormat.Common, BufferBytes = 4096, FinalFlushTimeout = TimeSpan.FromMilliseconds(100) });
        const int Requests = 3000;
        await using (var server = await TestServer.StartAsync(log.Wrap(new StaticFiles(_site.Root).HandleAsync)))
        {
            using var client = new RawClient(server.Port);
            // 64 KiB of pipe and 8 KiB of buffer hold about 1,000 lines: the rest must be dropped, not waited for.
            for (int sent = 0; sent < Requests; sent += 100)
            {
                client.Send(string.Concat(Enumerable.Range(sent, 100).Select(i => $"GET /?n={i} HTTP/1.1\r\nHost: x\r\n\r\n")));
                Assert.All(client.ReadResponses(100), response => Assert.Equal(200, response.Status));
            }
        }
        Assert.InRange(log.DroppedLines, 1, Requests - 1);
        Assert.Null(log.Failure);
        meter.RecordObservableInstruments();
        Assert.True(Interlocked.Read(ref metered) >= log.DroppedLines, $"metric {metered} < {log.DroppedLines}");

        var lines = ReadUntilSentinel(pipe, fifo);
        Assert.All(lines, line => Assert.Matches(CommonLine(), line)); // whole lines only, never a cut one
        if (!TestReactor.IsPortable)
        {
            Assert.Equal(Requests, lines.Count + log.DroppedLines);
            return;
        }
        // On the portable reactor a FIFO is written from a worker thread, and a write cannot be called back: the one in
        // flight when the server stops is not counted dropped, since it lands, but it may land after the sentinel. At
        // most one write's worth of lines (one PIPE_BUF) is unaccounted for, never a line counted twice.
        int perWrite = 4096 / lines.Min(line => line.Length + 1);
        Assert.InRange(lines.Count + log.DroppedLines, Requests - perWrite, Requests);
    }

    /// <summary>Writes a sentinel line after what the server left in the FIFO and reads everything up to it.</summary>
    private static List<string> ReadUntilSentinel(SafeFileHandle pipe, string fifo)
    {
        var text = new StringBuilder();
        var reader = Task.Run(() =>
        {
            using var stream = new FileStream(pipe, FileAccess.ReadWrite, bufferSize: 0);
            var buffer = new byte[65536];
            // Until the sentinel is in, as a line of its own: on the portable reactor a write the server abandoned at
            // shutdown may still land after it (a whole PIPE_BUF piece: such writes are atomic).
            while (!("\n" + text).Contains("\nEND\n", StringComparison.Ordinal))
            {
                int n = stream.Read(buffer);
                text.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
        });
        using (var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0))
            writer.Write("END\n"u8); // may wait for the reader to make room
        Assert.True(reader.Wait(TimeSpan.FromSeconds(30)), "the FIFO's content did not come");
        return [.. text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => line != "END")];
    }

    [ToolFact("nginx")]
    public async Task Combined_and_common_lines_are_the_ones_nginx_writes_for_the_same_requests()
    {
        string nginxLog = Path.Combine(_site.Base, "nginx.log"), ownCombined = Path.Combine(_site.Base, "combined.log"), ownCommon = Path.Combine(_site.Base, "common.log");
        using var nginx = NginxPeer.Start(_site.Base, _site.Root, nginxLog);
        var combined = AccessLog.ToFile(ownCombined);
        var common = AccessLog.ToFile(ownCommon, new AccessLogOptions { Format = AccessLogFormat.Common });
        var files = new StaticFiles(_site.Root);
        await using (var server = await TestServer.StartAsync(combined.Wrap(common.Wrap(files.HandleAsync))))
        {
            foreach (int port in new[] { server.Port, nginx.Port })
            {
                string url = $"http://127.0.0.1:{port}";
                Curl("-A", "agent \"quoted\" \\ back", "-e", "http://referer.example/page", $"{url}/index.html");
                Curl("-I", $"{url}/index.html");
                Curl("-r", "2-5", $"{url}/index.html?q=%22x%22");
                Curl("--http1.0", "-H", "User-Agent:", $"{url}/index.html");
            }
        }
        string[] expected = [.. File.ReadAllLines(nginxLog).Select(line => TimeField().Replace(line, "[T]"))];
        Assert.Equal(4, expected.Length);
        Assert.Equal(expected, File.ReadAllLines(ownCombined).Select(line => TimeField().Replace(line, "[T]")));
        // common is combined without the last two fields.
        Assert.Equal(expected.Select(line => line[..line.LastIndexOf(" \"", line.LastIndexOf(" \"", StringComparison.Ordinal) - 1, StringComparison.Ordinal)]),
            File.ReadAllLines(ownCommon).Select(line => TimeField().Replace(line, "[T]")));
    }

    [ToolFact("curl")]
    public async Task A_json_line_is_one_valid_object_whatever_the_request_holds()
    {
        string path = Path.Combine(_site.Base, "json.log");
        var log = AccessLog.ToFile(path, new AccessLogOptions { Format = AccessLogFormat.Json });
        await using (var server = await TestServer.StartAsync(log.Wrap(new StaticFiles(_site.Root).HandleAsync)))
            Curl("-A", "a \"b\" \\ \u00e9", $"http://127.0.0.1:{server.Port}/index.html?x=%22");
        var line = Assert.Single(File.ReadAllLines(path));
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("GET", root.GetProperty("method").GetString());
        Assert.Equal("/index.html?x=%22", root.GetProperty("target").GetString());
        Assert.Equal("HTTP/1.1", root.GetProperty("protocol").GetString());
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal(13, root.GetProperty("bytes").GetInt64());
        Assert.Equal("127.0.0.1", root.GetProperty("remote").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("referer").ValueKind);
        Assert.Equal("a \"b\" \\ \u00c3\u00a9", root.GetProperty("user_agent").GetString()); // the UTF-8 bytes, read as Latin-1
        Assert.True(root.GetProperty("duration_ms").GetDouble() >= 0);
        Assert.True(DateTimeOffset.TryParse(root.GetProperty("time").GetString(), out _));
    }

    [Fact]
    public void A_log_file_that_cannot_be_opened_fails_at_once_with_the_reason()
    {
        var e = Assert.Throws<IOException>(() => AccessLog.ToFile(Path.Combine(_site.Base, "no-such-dir", "access.log")));
        Assert.StartsWith($"cannot open the access log {_site.Base}/no-such-dir/access.log: ", e.Message);
        Assert.Throws<IOException>(() => AccessLog.ToFile(_site.Root)); // a directory
    }

    private static void Curl(params string[] args)
    {
        var (code, _, stderr) = Tool.Run("curl", ["-s", "-S", "-o", "/dev/null", .. args]);
        Assert.True(code == 0, stderr);
    }

    /// <summary>nginx serving <c>root</c> in the foreground with one process and a combined access log.</summary>
    private sealed class NginxPeer : IDisposable
    {
        private readonly System.Diagnostics.Process _process;

        private NginxPeer(System.Diagnostics.Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static NginxPeer Start(string directory, string root, string accessLog)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            string conf = Path.Combine(directory, "nginx.conf");
            File.WriteAllText(conf, $$"""
                daemon off; master_process off; error_log stderr; pid {{directory}}/nginx.pid;
                events { worker_connections 64; }
                http {
                  client_body_temp_path {{directory}}; proxy_temp_path {{directory}}; fastcgi_temp_path {{directory}};
                  uwsgi_temp_path {{directory}}; scgi_temp_path {{directory}};
                  access_log {{accessLog}} combined;
                  server { listen 127.0.0.1:{{port}}; root {{root}}; }
                }
                """);
            var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("nginx", ["-p", directory, "-c", conf, "-e", "stderr"]) { RedirectStandardError = true })!;
            var peer = new NginxPeer(process, port);
            // Listening is the event to wait for: connect until it accepts (or nginx died, or the deadline passed).
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (true)
            {
                try
                {
                    using var socket = new TcpClient();
                    socket.Connect(IPAddress.Loopback, port);
                    return peer;
                }
                catch (SocketException) when (!process.HasExited && DateTime.UtcNow < deadline)
                {
                    process.WaitForExit(20);
                }
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
