using System.CommandLine;
using Spectre.Console;

namespace Meanwhile.Cli;

/// <summary>
/// <c>meanwhile top PID</c>: a live view of a running Meanwhile process's loops and tasks, refreshed every interval and
/// sortable; on a terminal it redraws in place and takes keys, elsewhere it prints one frame per refresh.
/// </summary>
internal static class TopCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var pid = ProcessArgument.Create();
        var interval = Options.Duration("--interval", "-n", "Time between refreshes", TimeSpan.FromSeconds(1));
        var sort = new Option<TopSort>("--sort", "-s")
        {
            Description = "Order of the tasks: busy (share of the loop's time since the last refresh), scheduled (time ready but not running), turns (since the last refresh), waiting (time in the present state), id",
            DefaultValueFactory = _ => TopSort.Busy,
        };
        var iterations = new Option<int?>("--iterations")
        {
            Description = "Stop after this many refreshes (default: until q, Ctrl+C or the process ends)",
        }.WholeNumber().Validated(value => value is null or >= 1 ? null : $"--iterations must be at least 1, not {value}.");
        var rows = new Option<int>("--rows")
        {
            Description = "Tasks shown (default: what fits the terminal, else 30)",
            DefaultValueFactory = _ => 0,
        }.AtLeast(0);
        var command = new Command("top", """
            A live view of a running Meanwhile process: per loop its lag, turns/s, busy share, ready-queue length,
            timers, open descriptors, tasks, connections and requests/s; then its tasks, sorted (keys b, s, t, w, i;
            q quits). A task that never yields is shown first, as running.
            """)
        { pid, interval, sort, iterations, rows };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(pid), parse.GetValue(interval).Value, parse.GetValue(sort), parse.GetValue(iterations), parse.GetValue(rows), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(int pid, TimeSpan interval, TopSort sort, int? iterations, int rows, CancellationToken cancellationToken)
    {
        using var client = await ProcessArgument.ConnectAsync(pid, cancellationToken);
        if (client is null) return ExitCodes.Failure;
        bool live = Terminal.IsInteractive && !Console.IsInputRedirected;
        int maxRows = rows > 0 ? rows : live ? Math.Max(5, Console.WindowHeight - 14) : 30;
        ProcessSnapshot? before = null;
        try
        {
            if (!live)
            {
                for (int frame = 0; iterations is null || frame < iterations; frame++)
                {
                    if (frame > 0) await Task.Delay(interval, cancellationToken);
                    var now = await client.GetSnapshotAsync(cancellationToken: cancellationToken);
                    if (frame > 0) Console.Out.WriteLine();
                    Terminal.Write(new TopFrame(now, before, sort, maxRows).Render());
                    before = now;
                }
                return ExitCodes.Success;
            }
            var first = await client.GetSnapshotAsync(cancellationToken: cancellationToken);
            await AnsiConsole.Live(new TopFrame(first, null, sort, maxRows).Render()).StartAsync(async context =>
            {
                before = first;
                for (int frame = 1; iterations is null || frame < iterations; frame++)
                {
                    var key = await WaitForKeyAsync(interval, cancellationToken);
                    if (key == 'q') return;
                    sort = key switch { 'b' => TopSort.Busy, 's' => TopSort.Scheduled, 't' => TopSort.Turns, 'w' => TopSort.Waiting, 'i' => TopSort.Id, _ => sort };
                    var now = await client.GetSnapshotAsync(cancellationToken: cancellationToken);
                    context.UpdateTarget(new TopFrame(now, before, sort, maxRows).Render());
                    before = now;
                }
            });
            return ExitCodes.Success;
        }
        catch (DiagnosticsUnavailableException e)
        {
            Terminal.Error(e.Message);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success; // Ctrl+C
        }
    }

    /// <summary>Waits for the interval, or less if a key is pressed; returns the key (lower case) or null.</summary>
    private static async Task<char?> WaitForKeyAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        var end = DateTime.UtcNow + interval;
        while (DateTime.UtcNow < end)
        {
            if (Console.KeyAvailable) return char.ToLowerInvariant(Console.ReadKey(intercept: true).KeyChar);
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
        return null;
    }
}
