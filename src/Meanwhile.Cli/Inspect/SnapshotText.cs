using System.Globalization;

namespace Meanwhile.Cli;

/// <summary>
/// A snapshot's figures in words, for <c>meanwhile ps</c> and <c>meanwhile top</c>: durations as people read them
/// ("12.3 ms", "4m 05s"), what a task waits on with its details, and a loop's one-line summary.
/// </summary>
internal static class SnapshotText
{
    /// <summary>A duration to three significant figures or so; "-" for one the snapshot does not have.</summary>
    public static string Duration(TimeSpan? value)
    {
        if (value is not { } span) return "-";
        var sign = span < TimeSpan.Zero ? "-" : "";
        span = span.Duration();
        return sign + (span.TotalMilliseconds switch
        {
            < 1 => string.Create(CultureInfo.InvariantCulture, $"{span.TotalMicroseconds:0} µs"),
            < 10 => string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0.00} ms"),
            < 1000 => string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0.0} ms"),
            < 60_000 => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.00} s"),
            < 3_600_000 => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m {span.Seconds:00}s"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h {span.Minutes:00}m"),
        });
    }

    /// <summary>What the task waits on ("timer", "fd 7 readable", "queue 'jobs' (get)"), or what it does instead.</summary>
    public static string WaitsOn(in LoopTaskInfo task) => task.State switch
    {
        SchedulingState.Running => "running (has not yielded)",
        SchedulingState.Ready => "ready to run",
        _ => task.WaitingOn.ToString(),
    };

    /// <summary>The details of the wait: when a timer fires, a descriptor's addresses.</summary>
    public static string WaitDetail(in LoopTaskInfo task)
    {
        if (task.State != SchedulingState.Waiting) return "";
        if (task.WaitDue is { } due)
        {
            if (due == TimeSpan.MaxValue) return "never fires";
            return due < TimeSpan.Zero ? $"overdue by {Duration(-due)}" : $"fires in {Duration(due)}";
        }
        return task.WaitTarget ?? "";
    }

    /// <summary>How long the task has been where it is: waiting since its last turn, or ready since queued.</summary>
    public static TimeSpan? InStateFor(in LoopTaskInfo task) => task.State switch
    {
        SchedulingState.Waiting => task.WaitingFor,
        SchedulingState.Ready => task.ReadyFor,
        _ => null,
    };

    /// <summary>The task as one tree label: "#4 spinner  ready to run  busy 1.2 s, 3,012 turns".</summary>
    public static string TreeLabel(in LoopTaskInfo task)
    {
        var parts = new List<string> { $"#{task.Id}{(task.Name is null ? "" : $" {task.Name}")}", WaitsOn(task) };
        if (WaitDetail(task) is { Length: > 0 } detail) parts.Add(detail);
        if (InStateFor(task) is { } since) parts.Add($"for {Duration(since)}");
        if (task.BusyTime is { } busy) parts.Add($"busy {Duration(busy)}");
        if (task.Turns is { } turns) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{turns:N0} turn{(turns == 1 ? "" : "s")}"));
        if (task.Method is { } method) parts.Add(method);
        return string.Join("  ", parts);
    }

    /// <summary>The loop in one line: its id, name, reactor, tasks, queue, timers, descriptors and lag.</summary>
    public static string LoopSummary(LoopSnapshot loop)
    {
        var parts = new List<string>
        {
            $"{loop.LiveTasks} task{(loop.LiveTasks == 1 ? "" : "s")}",
            $"ready queue {loop.ReadyQueueLength}",
            $"{loop.Timers} timer{(loop.Timers == 1 ? "" : "s")}",
        };
        if (loop.Descriptors is { } descriptors) parts.Add($"{descriptors} descriptor{(descriptors == 1 ? "" : "s")}");
        foreach (var (name, value) in loop.Figures) parts.Add($"{name} {value}");
        parts.Add(loop.Lag is { } lag ? $"lag {Duration(lag)}" : "did not answer");
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"{loop.Turns:N0} turns"));
        if (loop.SlowTurns is { } slow) parts.Add($"{slow} slow (over {Duration(loop.SlowTurnThreshold)})");
        return $"loop {loop.LoopId} '{loop.Name}' ({loop.Reactor}): {string.Join(", ", parts)}";
    }

    /// <summary>Lines that call attention: a turn still running (a task that does not yield), the last slow turn, tasks left out.</summary>
    public static IEnumerable<string> Warnings(LoopSnapshot loop)
    {
        if (loop.RunningTurn is { } running)
            yield return $"the loop did not answer: {Who(running)} has been running {Duration(running.Duration)} in {running.Method ?? "an unknown method"} without yielding";
        else if (!loop.IsRunning)
            yield return "the loop is not running (read from outside)";
        if (loop.LastSlowTurn is { } slow)
            yield return $"last slow turn: {Who(slow)} ran {Duration(slow.Duration)} in {slow.Method ?? "an unknown method"}, {Duration(slow.Ago)} ago";
        if (loop.TasksOmitted > 0)
            yield return $"{loop.TasksOmitted} more task{(loop.TasksOmitted == 1 ? "" : "s")} not listed (--max-tasks)";
    }

    private static string Who(LoopTurn turn) =>
        turn.TaskId == 0 ? "a loop callback" : $"task #{turn.TaskId}{(turn.TaskName is null ? "" : $" '{turn.TaskName}'")}";
}
