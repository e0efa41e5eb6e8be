using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meanwhile.Http.Client;
using Spectre.Console;

namespace Meanwhile.Cli;

/// <summary><c>meanwhile fetch</c>: concurrent downloads on one loop, with live progress and a summary.</summary>
internal static class FetchCommand
{
    /// <summary>One download's outcome.</summary>
    private sealed record Outcome(Uri Uri, int Status, long Bytes, TimeSpan Time, TimeSpan Waiting, string? File, string? Error)
    {
        public bool Failed => Error is not null || Status >= 400;
    }

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var urls = new Argument<string[]>("url") { Description = "http:// or https:// URLs to download", Arity = ArgumentArity.ZeroOrMore };
        var input = new Option<FileInfo?>("--input", "-i") { Description = "Read URLs from a file, one per line ('#' starts a comment; - for stdin)", HelpName = "file" };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Downloads in progress at once", DefaultValueFactory = _ => 6 }.AtLeast(1);
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "Save each body in this directory (created if needed), named after its URL", HelpName = "dir" };
        var json = Options.Json();
        var cacert = Options.CaCert();
        var command = new Command("fetch", """
            Downloads URLs concurrently on one event loop, with a live progress bar per URL and a summary table
            (status, size, time, and waiting time: how long until the response began). Exits with 1 when any
            download fails (no response, or a status of 400 or more).
            """)
        { urls, input, concurrency, output, cacert, json };
        command.Validators.Add(result =>
        {
            var given = result.GetValue(urls) ?? [];
            if (given.Length == 0 && result.GetValue(input) is null) result.AddError("Give at least one URL, or -i FILE.");
            foreach (var url in given)
                if (ParseUrl(url) is null) result.AddError($"'{url}' is not an absolute http or https URL.");
            if (result.GetValue(input) is { } file && file.Name != "-" && !file.Exists) result.AddError($"The URL file '{file.FullName}' does not exist.");
        });
        command.SetAction(parse =>
        {
            var list = (parse.GetValue(urls) ?? []).Select(u => ParseUrl(u)!).ToList();
            if (parse.GetValue(input) is { } file)
            {
                var lines = file.Name == "-" ? Console.In.ReadToEnd().Split('\n') : File.ReadAllLines(file.FullName);
                foreach (var raw in lines)
                {
                    var line = raw.Trim();
                    if (line.Length == 0 || line.StartsWith('#')) continue;
                    if (ParseUrl(line) is not { } uri)
                    {
                        Terminal.Error($"{file.Name}: '{line}' is not an absolute http or https URL.");
                        return ExitCodes.BadArguments;
                    }
                    list.Add(uri);
                }
            }
            var client = new LoopHttpClientOptions { MaxConnectionsPerOrigin = parse.GetValue(concurrency), TrustedRootCertificates = Options.TrustedRoots(parse.GetValue(cacert)) };
            return Run(list, client, parse.GetValue(output), parse.GetValue(json));
        });
        return command;
    }

    private static Uri? ParseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) ? uri : null;

    private static int Run(List<Uri> uris, LoopHttpClientOptions client, DirectoryInfo? output, bool json)
    {
        output?.Create();
        var names = FileNames(uris);
        Outcome[] outcomes;
        if (Terminal.IsInteractive && !json)
        {
            outcomes = [];
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
                .Start(context => outcomes = EventLoop.Run(() => FetchAllAsync(uris, client, output, names, uri => new BarProgress(context.AddTask(Terminal.Escape(Short(uri)), autoStart: true, maxValue: 1)))));
        }
        else
        {
            outcomes = EventLoop.Run(() => FetchAllAsync(uris, client, output, names, null));
        }

        if (json) WriteJson(outcomes);
        else WriteTable(outcomes);
        var failed = outcomes.Where(o => o.Failed).ToList();
        if (failed.Count == 0) return ExitCodes.Success;
        var first = failed[0];
        Terminal.Error($"{failed.Count} of {outcomes.Length} download{(outcomes.Length == 1 ? "" : "s")} failed; the first: {first.Error ?? $"status {first.Status} ({first.Uri})"}");
        return ExitCodes.Failure;
    }

    /// <summary>Live progress of one download (a Spectre bar on a terminal).</summary>
    private sealed class BarProgress(ProgressTask task)
    {
        public void Started(long? length)
        {
            if (length is > 0) task.MaxValue = length.Value;
            else task.IsIndeterminate = true;
        }

        public void Read(int bytes) => task.Increment(bytes);

        public void Done(bool failed)
        {
            if (task.IsIndeterminate) { task.IsIndeterminate = false; task.MaxValue = Math.Max(1, task.Value); }
            if (!failed) task.Value = task.MaxValue;
            task.StopTask();
        }
    }

    private static async Task<Outcome[]> FetchAllAsync(List<Uri> uris, LoopHttpClientOptions options, DirectoryInfo? output, string[] names, Func<Uri, BarProgress>? progressFor)
    {
        var loop = EventLoop.Current;
        var outcomes = new Outcome[uris.Count];
        int concurrency = options.MaxConnectionsPerOrigin;
        await using var client = new LoopHttpClient(options);
        int next = 0;
        // `concurrency` workers take the next URL as each finishes, so at most that many are in progress.
        var workers = Enumerable.Range(0, Math.Min(concurrency, uris.Count)).Select(_ => (Task)loop.Spawn(async () =>
        {
            while (next < uris.Count)
            {
                int index = next++;
                string? path = output is null ? null : Path.Combine(output.FullName, names[index]);
                outcomes[index] = await FetchOneAsync(client, uris[index], path, progressFor?.Invoke(uris[index]));
            }
        }, "fetch worker")).ToList();
        await loop.WhenAll(workers);
        return outcomes;
    }

    private static async Task<Outcome> FetchOneAsync(LoopHttpClient client, Uri uri, string? path, BarProgress? progress)
    {
        long start = Stopwatch.GetTimestamp();
        TimeSpan waiting = TimeSpan.Zero;
        long bytes = 0;
        try
        {
            using var response = await client.GetAsync(uri);
            waiting = Stopwatch.GetElapsedTime(start); // until the head arrived: connect, send, and the server's time
            progress?.Started(response.ContentLength >= 0 ? response.ContentLength : null);
            FileDataStream? file = path is null ? null : await DataStream.OpenFileAsync(path, FileMode.Create, FileAccess.Write);
            try
            {
                var buffer = new byte[64 * 1024];
                var body = response.Content;
                int n;
                while ((n = await body.ReadAsync(buffer)) > 0)
                {
                    bytes += n;
                    progress?.Read(n);
                    if (file is not null) await file.WriteAsync(buffer.AsMemory(0, n));
                }
            }
            finally
            {
                if (file is not null) await file.DisposeAsync();
            }
            progress?.Done(response.StatusCode >= 400);
            return new Outcome(uri, response.StatusCode, bytes, Stopwatch.GetElapsedTime(start), waiting, path, null);
        }
        catch (Exception e) when (e is LoopHttpException or IOException or UnauthorizedAccessException or SystemCallException)
        {
            progress?.Done(failed: true);
            return new Outcome(uri, 0, bytes, Stopwatch.GetElapsedTime(start), waiting, path, e.Message);
        }
    }

    /// <summary>A file name per URL: its last path segment (index.html for a directory), made unique.</summary>
    private static string[] FileNames(List<Uri> uris)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var names = new string[uris.Count];
        for (int i = 0; i < uris.Count; i++)
        {
            string name = Uri.UnescapeDataString(uris[i].AbsolutePath.Split('/')[^1]);
            if (name.Length == 0) name = "index.html";
            foreach (char bad in Path.GetInvalidFileNameChars()) name = name.Replace(bad, '_');
            if (name is "." or "..") name = "_";
            string candidate = name;
            for (int n = 2; !used.Add(candidate); n++)
                candidate = $"{Path.GetFileNameWithoutExtension(name)}-{n}{Path.GetExtension(name)}";
            names[i] = candidate;
        }
        return names;
    }

    private static string Short(Uri uri) => uri.PathAndQuery.Length > 40 ? "…" + uri.PathAndQuery[^39..] : uri.PathAndQuery;

    private static void WriteTable(Outcome[] outcomes)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("URL").AddColumn(new TableColumn("status").RightAligned()).AddColumn(new TableColumn("size").RightAligned())
            .AddColumn(new TableColumn("time").RightAligned()).AddColumn(new TableColumn("waiting").RightAligned()).AddColumn("file or error");
        foreach (var o in outcomes)
        {
            string status = o.Error is not null ? "[red]failed[/]" : o.Status >= 400 ? $"[red]{o.Status}[/]" : $"[green]{o.Status}[/]";
            table.AddRow(Terminal.Escape(o.Uri.ToString()), status, Size(o.Bytes), Ms(o.Time), Ms(o.Waiting),
                o.Error is { } error ? $"[red]{Terminal.Escape(error)}[/]" : Terminal.Escape(o.File ?? ""));
        }
        int failed = outcomes.Count(o => o.Failed);
        table.Caption($"{outcomes.Length} URL{(outcomes.Length == 1 ? "" : "s")}, {Size(outcomes.Sum(o => o.Bytes))}, {failed} failed");
        Terminal.Write(table);
    }

    private static void WriteJson(Outcome[] outcomes)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("ok", !outcomes.Any(o => o.Failed));
            writer.WriteStartArray("results");
            foreach (var o in outcomes)
            {
                writer.WriteStartObject();
                writer.WriteString("url", o.Uri.ToString());
                writer.WriteNumber("status", o.Status);
                writer.WriteNumber("bytes", o.Bytes);
                writer.WriteNumber("time_ms", Math.Round(o.Time.TotalMilliseconds, 3));
                writer.WriteNumber("waiting_ms", Math.Round(o.Waiting.TotalMilliseconds, 3));
                if (o.File is not null) writer.WriteString("file", o.File);
                if (o.Error is not null) writer.WriteString("error", o.Error);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }

    internal static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
    };

    internal static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0.0} ms");
}
