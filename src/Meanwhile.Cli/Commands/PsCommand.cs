using System.CommandLine;

namespace Meanwhile.Cli;

/// <summary>
/// <c>meanwhile ps PID</c>: every task of every loop with diagnostics on in a running process, one row each (or a tree
/// with <c>--tree</c>, JSON with <c>--json</c>), read from the process's diagnostics endpoint.
/// </summary>
internal static class PsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var pid = ProcessArgument.Create();
        var tree = new Option<bool>("--tree") { Description = "Draw each loop's tasks as a tree, each under the task that spawned it" };
        var json = Options.Json();
        var maxTasks = new Option<int>("--max-tasks")
        {
            Description = "List at most this many tasks per loop (the rest are counted)",
            DefaultValueFactory = _ => 1000,
        }.AtLeast(0);
        var command = new Command("ps", """
            Lists the tasks of a running Meanwhile process, one row per task: its loop, id, name, parent and children,
            state (running, ready or waiting), what it waits on (a timer and when it fires, a descriptor and its peer,
            a queue, a worker, a foreign task), how long it has waited, its busy time, its scheduled delay (ready
            until run) and its turns. Each loop answers in one of its turns; a loop that does not answer (a task that
            never yields) is read from outside and its running task named.
            """)
        { pid, tree, json, maxTasks };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(pid), parse.GetValue(tree), parse.GetValue(json), parse.GetValue(maxTasks), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(int pid, bool tree, bool json, int maxTasks, CancellationToken cancellationToken)
    {
        using var client = await ProcessArgument.ConnectAsync(pid, cancellationToken);
        if (client is null) return ExitCodes.Failure;
        ProcessSnapshot snapshot;
        try
        {
            snapshot = await client.GetSnapshotAsync(maxTasks, cancellationToken);
        }
        catch (DiagnosticsUnavailableException e)
        {
            Terminal.Error(e.Message);
            return ExitCodes.Failure;
        }
        if (json)
        {
            Console.Out.WriteLine(snapshot.ToJson(indented: true));
            return ExitCodes.Success;
        }
        Terminal.Line($"process {snapshot.ProcessId} ({Terminal.Escape(snapshot.ProcessName)}): {snapshot.Loops.Count} loop{(snapshot.Loops.Count == 1 ? "" : "s")} with diagnostics on");
        if (tree)
        {
            foreach (var loop in snapshot.Loops)
            {
                Terminal.Write(TaskTable.Tree(loop));
                foreach (var warning in SnapshotText.Warnings(loop)) Terminal.Line($"[yellow]{Terminal.Escape(warning)}[/]");
            }
            return ExitCodes.Success;
        }
        foreach (var loop in snapshot.Loops)
        {
            Terminal.Line(Terminal.Escape(SnapshotText.LoopSummary(loop)));
            foreach (var warning in SnapshotText.Warnings(loop)) Terminal.Line($"  [yellow]{Terminal.Escape(warning)}[/]");
        }
        Terminal.Write(TaskTable.Rows(snapshot.Loops.SelectMany(loop => loop.Tasks.Select(task => (loop, task)))));
        return ExitCodes.Success;
    }
}
