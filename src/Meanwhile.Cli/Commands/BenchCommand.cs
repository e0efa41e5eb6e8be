using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meanwhile.Http.Client;
using Spectre.Console;

namespace Meanwhile.Cli;

/// <summary><c>meanwhile bench</c>: an HTTP load generator like wrk, on one event loop.</summary>
internal static class BenchCommand
{
    private sealed record Report(Uri Uri, int Connections, int Pipeline, TimeSpan Elapsed, long Requests, long Non2xx, ErrorTally Errors, long Bytes, LatencyHistogram Latency, string Reactor)
    {
        public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;
        public double BytesPerSecond => Bytes / Elapsed.TotalSeconds;
    }

    private static readonly (string Name, double Percentile)[] Percentiles = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)];

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var url = new Argument<string>("url") { Description = "The http:// or https:// URL to load (ws:// or wss:// for a WebSocket echo load)" };
        url.Validators.Add(r =>
        {
            var text = r.GetValueOrDefault<string>();
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "ws" or "wss"))
                r.AddError($"'{text}' is not an absolute http, https, ws or wss URL.");
        });
        var messageSize = new Option<int>("--message-size", "-s") { Description = "ws://: the size of each message, in bytes", DefaultValueFactory = _ => 32 }.AtLeast(0);
        var connections = new Option<int>("--connections", "-c") { Description = "Connections kept open", DefaultValueFactory = _ => 10 }.AtLeast(1);
        var duration = Options.Duration("--duration", "-d", "How long to run (e.g. 10s, 500ms, 1m)", TimeSpan.FromSeconds(10));
        var timeout = Options.Duration("--timeout", null, "A request (connecting included) taking longer fails as a timeout, as in wrk", TimeSpan.FromSeconds(2));
        var pipeline = new Option<int>("--pipeline") { Description = "Requests in flight per connection (HTTP/1.1 pipelining)", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var insecure = new Option<bool>("--insecure", "-k") { Description = "For https://, accept any server certificate (wrk never checks them)" };
        var json = Options.Json();
        var cacert = Options.CaCert();
        var command = new Command("bench", """
            Sends GET requests to one URL as fast as the server answers, over a fixed number of keep-alive connections,
            for a fixed time, like wrk. Reports requests and bytes per second (whole responses, head included, as wrk
            counts them), errors by kind (refused, reset, timeout, TLS, bad response) with the first message of each,
            and latency percentiles (p50, p90, p99, p99.9, max) from a log-bucketed histogram (values within 1.6 %).
            With a ws:// or wss:// URL, each connection sends a binary message of --message-size bytes and waits for its
            echo before the next: it reports round trips per second and their latency. Exits with 1 when every request
            failed.
            """)
        { url, connections, duration, timeout, pipeline, insecure, cacert, json, messageSize };
        command.SetAction(parse =>
        {
            var target = new Uri(parse.GetValue(url)!);
            if (target.Scheme is "ws" or "wss")
                return WebSocketLoad.Run(target, parse.GetValue(connections), parse.GetValue(messageSize), parse.GetValue(duration), parse.GetValue(insecure), parse.GetValue(json));
            var client = new LoopHttpClientOptions
            {
                MaxConnectionsPerOrigin = parse.GetValue(connections),
                MaxPipelineDepth = parse.GetValue(pipeline),
                AutomaticDecompression = false,
                ConnectTimeout = parse.GetValue(timeout),
                RequestTimeout = parse.GetValue(timeout),
                ServerCertificateValidation = parse.GetValue(insecure) ? (_, _, _, _) => true : null,
                TrustedRootCertificates = Options.TrustedRoots(parse.GetValue(cacert)),
            };
            var report = Run(new Uri(parse.GetValue(url)!), client, parse.GetValue(duration), parse.GetValue(json));
            if (parse.GetValue(json)) WriteJson(report);
            else WriteText(report);
            if (report.Requests > 0) return ExitCodes.Success;
            var kinds = report.Errors.Occurred().Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Count:N0} {e.Kind}"));
            Terminal.Error($"every request failed ({string.Join(", ", kinds)}): {report.Errors.Occurred().FirstOrDefault().FirstMessage ?? "no answer"}");
            return ExitCodes.Failure;
        });
        return command;
    }

    private static Report Run(Uri uri, LoopHttpClientOptions client, TimeSpan duration, bool json)
    {
        if (!Terminal.IsInteractive || json) return EventLoop.Run(() => LoadAsync(uri, client, duration, null));
        Report? report = null;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask($"{Terminal.Escape(uri.ToString())}, {client.MaxConnectionsPerOrigin} connections", maxValue: duration.TotalMilliseconds);
                report = EventLoop.Run(() => LoadAsync(uri, client, duration, (elapsed, requests) =>
                {
                    task.Value = elapsed.TotalMilliseconds;
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"{requests:N0} requests, {requests / Math.Max(elapsed.TotalSeconds, 1e-3):N0}/s");
                }));
            });
        return report!;
    }

    private static async Task<Report> LoadAsync(Uri uri, LoopHttpClientOptions options, TimeSpan duration, Action<TimeSpan, long>? progress)
    {
        var loop = EventLoop.Current;
        var latency = new LatencyHistogram();
        var errors = new ErrorTally();
        long requests = 0, non2xx = 0, bytes = 0;
        await using var client = new LoopHttpClient(options);
        var start = Stopwatch.GetTimestamp();
        long end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var buffer = new byte[64 * 1024];

        // connections × pipeline senders, each with one request in flight: the pool spreads them over the connections.
        var senders = Enumerable.Range(0, options.MaxConnectionsPerOrigin * options.MaxPipelineDepth).Select(_ => (Task)loop.Spawn(async () =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                long sent = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.GetAsync(uri);
                    long received = HeadBytes(response);
                    var body = response.Content;
                    int n;
                    while ((n = await body.ReadAsync(buffer)) > 0) received += n;
                    bytes += received; // counted once whole, as wrk counts the responses it completes
                    if (!response.IsSuccessStatusCode) non2xx++;
                    requests++;
                    latency.Record((long)Stopwatch.GetElapsedTime(sent).TotalNanoseconds);
                }
                catch (LoopHttpException e)
                {
                    errors.Add(e);
                    if (errors.Total > 1000 && requests == 0) return; // nothing answers: stop rather than spin
                }
            }
        }, "bench sender")).ToList();

        TimerHandle? ticker = null;
        void Tick()
        {
            progress?.Invoke(Stopwatch.GetElapsedTime(start), requests);
            ticker = loop.CallLater(TimeSpan.FromMilliseconds(200), Tick);
        }
        if (progress is not null) Tick();
        await loop.WhenAll(senders);
        ticker?.Cancel();
        return new Report(uri, options.MaxConnectionsPerOrigin, options.MaxPipelineDepth, Stopwatch.GetElapsedTime(start), requests, non2xx, errors, bytes, latency, loop.ReactorName);
    }

    /// <summary>The bytes of the response head as received: status line, header lines and the empty line that ends them.</summary>
    private static long HeadBytes(LoopHttpResponse response) => response.Head.RawBytes.Length;

    private static string Duration(long nanoseconds) => nanoseconds switch
    {
        < 1_000 => $"{nanoseconds} ns",
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e3:0.0} µs"),
        < 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e6:0.00} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e9:0.00} s"),
    };

    private static void WriteText(Report r)
    {
        var c = CultureInfo.InvariantCulture;
        Terminal.Line(string.Create(c, $"[bold]{Terminal.Escape(r.Uri.ToString())}[/]: {r.Elapsed.TotalSeconds:0.00} s, {r.Connections} connection{(r.Connections == 1 ? "" : "s")}, pipeline {r.Pipeline}, one loop ({r.Reactor})"));
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
        table.AddRow("requests", r.Requests.ToString("N0", c));
        table.AddRow("[bold]requests/s[/]", $"[bold]{r.RequestsPerSecond.ToString("N0", c)}[/]");
        table.AddRow("transfer/s", $"{FetchCommand.Size((long)r.BytesPerSecond)}");
        table.AddRow("non-2xx", r.Non2xx.ToString("N0", c));
        table.AddRow("errors", r.Errors.Total.ToString("N0", c));
        foreach (var (kind, count, _) in r.Errors.Occurred()) table.AddRow($"  {kind}", count.ToString("N0", c));
        table.AddRow("latency mean", Duration((long)r.Latency.Mean));
        foreach (var (name, p) in Percentiles) table.AddRow($"latency {name}", Duration(r.Latency.ValueAt(p)));
        table.AddRow("latency max", Duration(r.Latency.Max));
        Terminal.Write(table);
        foreach (var (kind, _, first) in r.Errors.Occurred()) Terminal.Line($"first {Terminal.Escape(kind)} error: {Terminal.Escape(first)}");
    }

    private static void WriteJson(Report r)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("url", r.Uri.ToString());
            w.WriteNumber("connections", r.Connections);
            w.WriteNumber("pipeline", r.Pipeline);
            w.WriteNumber("duration_s", Math.Round(r.Elapsed.TotalSeconds, 3));
            w.WriteNumber("requests", r.Requests);
            w.WriteNumber("requests_per_s", Math.Round(r.RequestsPerSecond, 1));
            w.WriteNumber("bytes", r.Bytes);
            w.WriteNumber("bytes_per_s", Math.Round(r.BytesPerSecond, 1));
            w.WriteNumber("non_2xx", r.Non2xx);
            w.WriteNumber("errors", r.Errors.Total);
            w.WriteStartObject("errors_by_kind");
            foreach (var (kind, count, first) in r.Errors.Occurred())
            {
                w.WriteStartObject(kind.ToLowerInvariant().Replace(' ', '_'));
                w.WriteNumber("count", count);
                w.WriteString("first", first);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteStartObject("latency_us");
            w.WriteNumber("mean", Math.Round(r.Latency.Mean / 1e3, 1));
            foreach (var (name, p) in Percentiles) w.WriteNumber(name, Math.Round(r.Latency.ValueAt(p) / 1e3, 1));
            w.WriteNumber("max", Math.Round(r.Latency.Max / 1e3, 1));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }
}
