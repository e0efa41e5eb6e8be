using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Meanwhile.Cli;

/// <summary>How <c>meanwhile top</c> orders the tasks.</summary>
internal enum TopSort
{
    /// <summary>Share of the loop's time spent running the task since the last refresh.</summary>
    Busy,
    /// <summary>Scheduled delay: time spent ready but not running, in all.</summary>
    Scheduled,
    /// <summary>Turns since the last refresh.</summary>
    Turns,
    /// <summary>Time in its present state (waiting, or ready).</summary>
    Waiting,
    /// <summary>Task id.</summary>
    Id,
}

/// <summary>
/// One refresh of <c>meanwhile top</c>: per-loop figures (lag, turns/s, busy share, ready queue, timers, descriptors,
/// tasks, connections, requests/s) and the tasks sorted, with rates taken between this snapshot and the previous one.
/// </summary>
internal sealed class TopFrame(ProcessSnapshot now, ProcessSnapshot? before, TopSort sort, int maxRows)
{
    private readonly double _seconds = before is null ? 0 : Math.Max(0.001, (now.Time - before.Time).TotalSeconds);

    /// <summary>The whole frame.</summary>
    public IRenderable Render()
    {
        var parts = new List<IRenderable>
        {
            new Markup(Terminal.Escape($"process {now.ProcessId} ({now.ProcessName}) at {now.Time.ToLocalTime():HH:mm:ss}, tasks by {sort.ToString().ToLowerInvariant()}") +
                " [grey](keys: b busy, s scheduled, t turns, w waiting, i id, q quit)[/]"),
            Loops(),
        };
        foreach (var loop in now.Loops)
            foreach (var warning in SnapshotText.Warnings(loop))
                parts.Add(new Markup($"[yellow]loop {loop.LoopId}: {Terminal.Escape(warning)}[/]"));
        var rows = SortedTasks().Take(maxRows).ToList();
        parts.Add(TaskTable.Rows(rows.Select(r => (r.Loop, r.Task)), r => BusyShare(r.Loop, r.Task)));
        int total = now.Loops.Sum(l => l.Tasks.Count);
        if (total > rows.Count) parts.Add(new Markup($"[grey]{total - rows.Count} more tasks not shown[/]"));
        return new Rows(parts);
    }

    /// <summary>The per-loop table.</summary>
    public Table Loops()
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("LOOP", "NAME", "LAG", "TURNS/S", "BUSY", "READY", "TIMERS", "DESCRIPTORS", "TASKS", "CONNECTIONS", "REQUESTS/S", "SLOW TURNS");
        for (int i = 2; i < table.Columns.Count; i++) table.Columns[i].RightAligned();
        foreach (var loop in now.Loops)
        {
            var previous = before?.Loops.FirstOrDefault(l => l.LoopId == loop.LoopId);
            table.AddRow(
                loop.LoopId.ToString(CultureInfo.InvariantCulture),
                Terminal.Escape(loop.Name),
                loop.Lag is { } lag ? SnapshotText.Duration(lag) : "[red]no answer[/]",
                Rate(loop.Turns, previous?.Turns),
                Share(loop.BusyTime, previous?.BusyTime),
                loop.ReadyQueueLength.ToString(CultureInfo.InvariantCulture),
                loop.Timers.ToString(CultureInfo.InvariantCulture),
                loop.Descriptors?.ToString(CultureInfo.InvariantCulture) ?? "-",
                loop.LiveTasks.ToString(CultureInfo.InvariantCulture),
                loop.Figures.TryGetValue("connections", out long connections) ? connections.ToString(CultureInfo.InvariantCulture) : "-",
                loop.Figures.TryGetValue("requests", out long requests)
                    ? Rate(requests, previous is not null && previous.Figures.TryGetValue("requests", out long earlier) ? earlier : null)
                    : "-",
                loop.SlowTurns?.ToString(CultureInfo.InvariantCulture) ?? "-");
        }
        return table;
    }

    /// <summary>The tasks in the chosen order; a task that is running (has not yielded) comes first whatever the order.</summary>
    public IEnumerable<(LoopSnapshot Loop, LoopTaskInfo Task)> SortedTasks()
    {
        var all = now.Loops.SelectMany(loop => loop.Tasks.Select(task => (Loop: loop, Task: task)));
        var running = all.OrderByDescending(r => r.Task.State == SchedulingState.Running);
        return sort switch
        {
            TopSort.Busy => running.ThenByDescending(r => BusySince(r.Loop, r.Task)),
            TopSort.Scheduled => running.ThenByDescending(r => r.Task.ScheduledTime ?? TimeSpan.Zero),
            TopSort.Turns => running.ThenByDescending(r => r.Task.Turns - (Previous(r.Loop, r.Task)?.Turns ?? 0) ?? 0),
            TopSort.Waiting => running.ThenByDescending(r => SnapshotText.InStateFor(r.Task) ?? TimeSpan.Zero),
            _ => running.ThenBy(r => r.Loop.LoopId).ThenBy(r => r.Task.Id),
        };
    }

    private LoopTaskInfo? Previous(LoopSnapshot loop, LoopTaskInfo task) =>
        before?.Loops.FirstOrDefault(l => l.LoopId == loop.LoopId)?.Tasks.FirstOrDefault(t => t.Id == task.Id) is { Id: > 0 } found ? found : null;

    /// <summary>Busy time since the previous refresh (all of it on the first).</summary>
    private TimeSpan BusySince(LoopSnapshot loop, LoopTaskInfo task) =>
        (task.BusyTime ?? TimeSpan.Zero) - (Previous(loop, task)?.BusyTime ?? TimeSpan.Zero);

    private string BusyShare(LoopSnapshot loop, LoopTaskInfo task) =>
        before is null || task.BusyTime is null ? "-" : Percent(BusySince(loop, task).TotalSeconds / _seconds);

    private string Rate(long value, long? previous) =>
        previous is { } earlier ? string.Create(CultureInfo.InvariantCulture, $"{(value - earlier) / _seconds:N0}") : "-";

    private string Share(TimeSpan? value, TimeSpan? previous) =>
        value is { } v && previous is { } p ? Percent((v - p).TotalSeconds / _seconds) : "-";

    private static string Percent(double share) => string.Create(CultureInfo.InvariantCulture, $"{Math.Clamp(share, 0, 1) * 100:0.0}%");
}
