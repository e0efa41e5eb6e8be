using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace Meanwhile.Cli;

/// <summary><c>meanwhile demo</c>: the seed chapter's point, shown by a real run.</summary>
internal static class DemoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var pages = new Option<int>("--pages", "-n") { Description = "How many pages the browser fetches", DefaultValueFactory = _ => 20 }.AtLeast(1);
        var wait = Options.Duration("--wait", "-w", "How long the server takes to build each page (e.g. 200ms, 1s)", TimeSpan.FromMilliseconds(200));
        var concurrency = new Option<int?>("--concurrency", "-c") { Description = "Most connections at once in the concurrent run [default: --pages]" }
            .WholeNumber().Validated(value => value is < 1 ? $"--concurrency must be at least 1, not {value}." : null);
        var html = new Option<FileInfo?>("--html") { Description = "Also write the concurrent run as a self-contained timeline page", HelpName = "file" };
        // Checked before the run, so a typo costs no run and ends with a line, not a stack trace.
        html.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo?>() is not { } file) return;
            if (Directory.Exists(file.FullName)) result.AddError($"--html takes a file to write, and '{file.FullName}' is a directory.");
            else if (file.Directory is { Exists: false } parent) result.AddError($"--html cannot write '{file.FullName}': the directory '{parent.FullName}' does not exist.");
        });

        var command = new Command("demo", """
            Starts a web server on loopback whose pages each take a while to build, then a browser that fetches them
            one after the other, then all at once; prints both durations, the speed-up, and the concurrent run as the
            seed chapter's sequence diagram, drawn from the loop's recording of that run.
            """)
        { pages, wait, concurrency, html };
        command.SetAction(parse =>
        {
            var settings = new DemoSettings(parse.GetValue(pages), parse.GetValue(wait).Value, parse.GetValue(concurrency) ?? parse.GetValue(pages));
            return Run(settings, parse.GetValue(html));
        });
        return command;
    }

    private static int Run(DemoSettings settings, FileInfo? html)
    {
        Terminal.Line($"[bold]meanwhile demo[/]: a browser fetches {settings.Pages} page{(settings.Pages == 1 ? "" : "s")} from a web server that takes {Ms(settings.Wait)} to build each one.");
        var result = RunWithProgress(settings);
        var timeline = Timeline.From(result.Events);

        Terminal.Line();
        Terminal.Line($"  one after the other: [bold]{Ms(result.Sequential),9}[/]");
        Terminal.Line($"  all at once:         [bold]{Ms(result.Concurrent),9}[/]");
        Terminal.Line($"  [bold green]speed-up: {result.SpeedUp.ToString("0.0", CultureInfo.InvariantCulture)}×[/]");
        Terminal.Line();
        Terminal.Line($"The concurrent run, from the loop's recording ({result.Events.Count} events, {result.Reactor} reactor); the dots are waiting:");
        Terminal.Line();
        foreach (var line in SequenceDiagram.Render(timeline)) Terminal.Line(line);
        Terminal.Line();
        if (timeline.Lanes.Count > 0)
        {
            double waited = timeline.Lanes.Average(l => l.Waiting.TotalMilliseconds);
            string overlap = settings.Concurrency >= settings.Pages
                ? "so the run took about as long as one of them"
                : $"{settings.Concurrency} at a time, so the run took about {(settings.Pages + settings.Concurrency - 1) / settings.Concurrency} of them";
            Terminal.Line($"Each request waited {waited.ToString("0", CultureInfo.InvariantCulture)} ms on average for its answer; the waits overlapped on one thread, {overlap}.");
        }
        if (html is not null)
        {
            try
            {
                TimelinePage.Write(html.FullName, result, timeline);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Terminal.Error($"cannot write the timeline page '{html.FullName}': {e.Message}");
                return ExitCodes.Failure;
            }
            Terminal.Line($"Timeline page: {Terminal.Escape(html.FullName)}");
        }
        return ExitCodes.Success;
    }

    private static DemoResult RunWithProgress(DemoSettings settings)
    {
        if (!Terminal.IsInteractive) return DemoRun.Run(settings);
        DemoResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var one = context.AddTask("one after the other", maxValue: settings.Pages);
                var all = context.AddTask("all at once", maxValue: settings.Pages);
                // Runs on this thread; Spectre redraws from its own, and a ProgressTask may be updated from any thread.
                result = DemoRun.Run(settings, (phase, done) => (phase == "all at once" ? all : one).Value = done);
            });
        return result!;
    }

    private static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0} ms");
}
