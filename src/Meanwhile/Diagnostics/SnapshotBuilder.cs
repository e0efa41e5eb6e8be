using System.Diagnostics;

namespace Meanwhile;

/// <summary>
/// Builds a <see cref="LoopSnapshot"/>: on the loop thread in one turn (consistent), or, when the loop cannot answer, from
/// another thread while the loop runs on. The second reads the task tree without the loop's cooperation, as py-spy reads
/// a running interpreter: the walk is bounded and any exception ends it, and the snapshot says it is not consistent.
/// </summary>
internal static class SnapshotBuilder
{
    /// <summary>Takes a snapshot of <paramref name="loop"/>, with at most <paramref name="maxTasks"/> tasks.</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="maxTasks">The bound on tasks listed.</param>
    /// <param name="onLoop">Whether this runs on the loop thread, between items.</param>
    /// <param name="lag">How long the request waited in the loop's queue, if it came through the endpoint.</param>
    public static LoopSnapshot Take(EventLoop loop, int maxTasks, bool onLoop, TimeSpan? lag)
    {
        long now = Stopwatch.GetTimestamp();
        var monitor = loop.Monitor;
        LoopTurn? running = null;
        if (!onLoop && monitor is not null && monitor.TryReadRunningTurn(out var turn)) running = turn;
        var tasks = new List<LoopTaskInfo>(Math.Min(maxTasks, Math.Max(loop.LiveTaskCount, 0)));
        int visited = 0;
        try
        {
            // On the loop, the task taking the snapshot (if a task takes it) is the one running.
            int runningId = onLoop ? LoopTask.CurrentOn(loop)?.Id ?? 0 : running?.TaskId ?? 0;
            visited = CollectTasks(loop, tasks, maxTasks, runningId, now);
        }
        catch (Exception) when (!onLoop)
        {
            // The tree changed under a read from outside: keep what was read.
        }
        return new LoopSnapshot
        {
            LoopId = loop.Id,
            Name = loop.Name,
            Reactor = loop.ReactorName,
            IsConsistent = onLoop,
            IsRunning = loop.IsRunning,
            Lag = lag,
            Turns = loop.TurnCount,
            BusyTime = monitor is null ? null : Stopwatch.GetElapsedTime(0, monitor.BusyTicks),
            ReadyQueueLength = loop.ReadyCount,
            Timers = loop.TimerCount,
            Descriptors = loop.RegistrationCount,
            LiveTasks = loop.LiveTaskCount,
            SpawnedTasks = loop.SpawnedTaskCount,
            SlowTurns = monitor?.SlowTurns,
            SlowTurnThreshold = monitor?.SlowTurnThreshold,
            LastSlowTurn = monitor?.LastSlowTurn?.ToTurn(now),
            RunningTurn = running,
            // Figures are read by code written for the loop thread: not from outside.
            Figures = onLoop ? loop.ReadSnapshotFigures() : new Dictionary<string, long>(),
            Tasks = WithChildren(tasks),
            TasksOmitted = Math.Max(0, Math.Max(visited, loop.LiveTaskCount) - tasks.Count),
        };
    }

    /// <summary>
    /// Walks the task tree depth-first, each task before its children, adding at most <paramref name="max"/> rows;
    /// returns how many tasks it saw. <paramref name="runningId"/> is the task whose turn is running (seen from
    /// outside), 0 for none. A <see cref="TaskGroup"/> is not a task: its tasks' parent is the task around it.
    /// </summary>
    public static int CollectTasks(EventLoop loop, List<LoopTaskInfo> into, int max, int runningId, long now)
    {
        // A read from outside may meet a tree being changed; bound the walk so that it cannot go round for ever.
        int budget = Math.Max(loop.LiveTaskCount, Math.Min(max, 1 << 24)) * 4 + 64;
        int seen = 0;
        var stack = new Stack<(CancelScope Scope, int ParentId)>();
        var siblings = new List<CancelScope>();
        PushChildren(loop.RootScope, 0);
        while (stack.Count > 0)
        {
            var (scope, parentId) = stack.Pop();
            int id = parentId;
            if (scope is LoopTask task)
            {
                seen++;
                if (into.Count < max) into.Add(Describe(loop, task, parentId, runningId, now));
                id = task.Id;
            }
            PushChildren(scope, id);
        }
        return seen;

        void PushChildren(CancelScope scope, int parentId)
        {
            siblings.Clear();
            for (var child = scope.FirstChild; child is not null && budget-- > 0; child = child.NextSibling) siblings.Add(child);
            // A scope lists its newest child first: pushed in that order, the oldest comes out first, so tasks read in spawn order.
            foreach (var sibling in siblings) stack.Push((sibling, parentId));
        }
    }

    private static LoopTaskInfo Describe(EventLoop loop, LoopTask task, int parentId, int runningId, long now)
    {
        var wait = task.CurrentWait;
        var reason = wait?.Reason ?? WaitReason.None;
        var stats = task.Stats;
        var state = task.Id == runningId ? SchedulingState.Running
            : task.Status == LoopTaskStatus.Scheduled || (stats is null ? IsQueued(task, wait) : stats.ReadySince != 0) ? SchedulingState.Ready
            : SchedulingState.Waiting;
        var info = new LoopTaskInfo(task.Id, task.Name, parentId, task.Status, reason)
        {
            State = state,
            Method = AsyncMethodNames.OfTaskCode(task.DiagnosticCode) ?? AsyncMethodNames.Of(stats?.Work),
            WaitTarget = state == SchedulingState.Waiting ? DescribeTarget(loop, reason) : null,
            WaitDue = reason.Kind == WaitKind.Timer ? loop.UntilDeadline(reason.Detail) : null,
        };
        if (stats is null) return info;
        long busy = stats.BusyTicks;
        long scheduled = stats.ScheduledTicks;
        long ready = stats.ReadySince;
        if (state == SchedulingState.Ready && ready != 0) scheduled += Math.Max(0, now - ready);
        return info with
        {
            WaitingFor = state == SchedulingState.Waiting && stats.LastTurnEnd != 0 ? Elapsed(stats.LastTurnEnd, now) : null,
            ReadyFor = state == SchedulingState.Ready && ready != 0 ? Elapsed(ready, now) : null,
            BusyTime = Stopwatch.GetElapsedTime(0, busy),
            ScheduledTime = Stopwatch.GetElapsedTime(0, scheduled),
            LongestTurn = Stopwatch.GetElapsedTime(0, stats.LongestTurnTicks),
            Turns = stats.Turns,
            Age = Elapsed(stats.SpawnedAt, now),
        };
    }

    /// <summary>Without the monitor's stamps: whether the task's resume is queued (a yield, or a loop wait that ended).</summary>
    private static bool IsQueued(LoopTask task, ITaskWait? wait) => task.IsYieldQueued || wait is LoopWait { HasEnded: true } or PermitWaiter { HasEnded: true };

    private static TimeSpan Elapsed(long since, long now) => Stopwatch.GetElapsedTime(since, Math.Max(since, now));

    /// <summary>What a descriptor wait is on (the reactor reads its addresses), for the waits that have such a thing.</summary>
    private static string? DescribeTarget(EventLoop loop, WaitReason reason) => reason.Kind switch
    {
        WaitKind.Readable or WaitKind.Writable => loop.Poller.DescribeDescriptor((int)reason.Detail),
        _ => null,
    };

    /// <summary>Fills each row's children from the rows' parent ids.</summary>
    private static List<LoopTaskInfo> WithChildren(List<LoopTaskInfo> rows)
    {
        Dictionary<int, List<int>>? children = null;
        foreach (var row in rows)
        {
            if (row.ParentId == 0) continue;
            children ??= new Dictionary<int, List<int>>();
            if (!children.TryGetValue(row.ParentId, out var list)) children[row.ParentId] = list = new List<int>();
            list.Add(row.Id);
        }
        if (children is null) return rows;
        for (int i = 0; i < rows.Count; i++)
            if (children.TryGetValue(rows[i].Id, out var list)) rows[i] = rows[i] with { Children = list };
        return rows;
    }
}
