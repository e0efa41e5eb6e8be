using System.Text.Json;

namespace Meanwhile;

/// <summary>
/// The endpoint's wire format, written and read in one place: a process snapshot as one JSON object, durations in
/// milliseconds (<c>…Ms</c>), figures a snapshot does not have left out. docs/diagnostics.md shows an example.
/// </summary>
internal static class SnapshotJson
{
    public static void Write(Utf8JsonWriter w, ProcessSnapshot process)
    {
        w.WriteStartObject();
        w.WriteNumber("pid", process.ProcessId);
        w.WriteString("process", process.ProcessName);
        w.WriteString("time", process.Time);
        w.WriteStartArray("loops");
        foreach (var loop in process.Loops) WriteLoop(w, loop);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteLoop(Utf8JsonWriter w, LoopSnapshot loop)
    {
        w.WriteStartObject();
        w.WriteNumber("id", loop.LoopId);
        w.WriteString("name", loop.Name);
        w.WriteString("reactor", loop.Reactor);
        w.WriteBoolean("consistent", loop.IsConsistent);
        w.WriteBoolean("running", loop.IsRunning);
        Milliseconds(w, "lagMs", loop.Lag);
        w.WriteNumber("turns", loop.Turns);
        Milliseconds(w, "busyMs", loop.BusyTime);
        w.WriteNumber("readyQueue", loop.ReadyQueueLength);
        w.WriteNumber("timers", loop.Timers);
        if (loop.Descriptors is { } descriptors) w.WriteNumber("descriptors", descriptors);
        w.WriteNumber("liveTasks", loop.LiveTasks);
        w.WriteNumber("spawnedTasks", loop.SpawnedTasks);
        if (loop.SlowTurns is { } slow) w.WriteNumber("slowTurns", slow);
        Milliseconds(w, "slowTurnThresholdMs", loop.SlowTurnThreshold);
        if (loop.LastSlowTurn is { } last) WriteTurn(w, "lastSlowTurn", last);
        if (loop.RunningTurn is { } running) WriteTurn(w, "runningTurn", running);
        w.WriteStartObject("figures");
        foreach (var (name, value) in loop.Figures) w.WriteNumber(name, value);
        w.WriteEndObject();
        w.WriteNumber("tasksOmitted", loop.TasksOmitted);
        w.WriteStartArray("tasks");
        foreach (var task in loop.Tasks) WriteTask(w, task);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteTurn(Utf8JsonWriter w, string name, LoopTurn turn)
    {
        w.WriteStartObject(name);
        w.WriteNumber("task", turn.TaskId);
        if (turn.TaskName is not null) w.WriteString("taskName", turn.TaskName);
        if (turn.Method is not null) w.WriteString("method", turn.Method);
        Milliseconds(w, "durationMs", turn.Duration);
        Milliseconds(w, "agoMs", turn.Ago);
        w.WriteEndObject();
    }

    private static void WriteTask(Utf8JsonWriter w, in LoopTaskInfo task)
    {
        w.WriteStartObject();
        w.WriteNumber("id", task.Id);
        if (task.Name is not null) w.WriteString("name", task.Name);
        w.WriteNumber("parent", task.ParentId);
        w.WriteStartArray("children");
        foreach (int child in task.Children) w.WriteNumberValue(child);
        w.WriteEndArray();
        w.WriteString("status", task.Status.ToString());
        w.WriteString("state", task.State.ToString().ToLowerInvariant());
        if (task.Method is not null) w.WriteString("method", task.Method);
        w.WriteStartObject("wait");
        w.WriteString("kind", task.WaitingOn.Kind.ToString());
        w.WriteNumber("detail", task.WaitingOn.Detail);
        if (task.WaitingOn.Name is not null) w.WriteString("name", task.WaitingOn.Name);
        w.WriteString("text", task.WaitingOn.ToString());
        if (task.WaitTarget is not null) w.WriteString("target", task.WaitTarget);
        Milliseconds(w, "dueMs", task.WaitDue);
        w.WriteEndObject();
        Milliseconds(w, "waitingMs", task.WaitingFor);
        Milliseconds(w, "readyMs", task.ReadyFor);
        Milliseconds(w, "busyMs", task.BusyTime);
        Milliseconds(w, "scheduledMs", task.ScheduledTime);
        Milliseconds(w, "longestTurnMs", task.LongestTurn);
        if (task.Turns is { } turns) w.WriteNumber("turns", turns);
        Milliseconds(w, "ageMs", task.Age);
        w.WriteEndObject();
    }

    private static void Milliseconds(Utf8JsonWriter w, string name, TimeSpan? value)
    {
        if (value is { } span) w.WriteNumber(name, Math.Round(span.TotalMilliseconds, 3));
    }

    public static ProcessSnapshot ReadProcess(JsonElement e) => new()
    {
        ProcessId = e.GetProperty("pid").GetInt32(),
        ProcessName = e.GetProperty("process").GetString() ?? "",
        Time = e.GetProperty("time").GetDateTimeOffset(),
        Loops = [.. e.GetProperty("loops").EnumerateArray().Select(ReadLoop)],
    };

    private static LoopSnapshot ReadLoop(JsonElement e) => new()
    {
        LoopId = e.GetProperty("id").GetInt32(),
        Name = e.GetProperty("name").GetString() ?? "",
        Reactor = e.GetProperty("reactor").GetString() ?? "",
        IsConsistent = e.GetProperty("consistent").GetBoolean(),
        IsRunning = e.GetProperty("running").GetBoolean(),
        Lag = Duration(e, "lagMs"),
        Turns = e.GetProperty("turns").GetInt64(),
        BusyTime = Duration(e, "busyMs"),
        ReadyQueueLength = e.GetProperty("readyQueue").GetInt32(),
        Timers = e.GetProperty("timers").GetInt32(),
        Descriptors = e.TryGetProperty("descriptors", out var d) ? d.GetInt32() : null,
        LiveTasks = e.GetProperty("liveTasks").GetInt32(),
        SpawnedTasks = e.GetProperty("spawnedTasks").GetInt64(),
        SlowTurns = e.TryGetProperty("slowTurns", out var s) ? s.GetInt64() : null,
        SlowTurnThreshold = Duration(e, "slowTurnThresholdMs"),
        LastSlowTurn = e.TryGetProperty("lastSlowTurn", out var last) ? ReadTurn(last) : null,
        RunningTurn = e.TryGetProperty("runningTurn", out var running) ? ReadTurn(running) : null,
        Figures = e.GetProperty("figures").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()),
        TasksOmitted = e.GetProperty("tasksOmitted").GetInt32(),
        Tasks = [.. e.GetProperty("tasks").EnumerateArray().Select(ReadTask)],
    };

    private static LoopTurn ReadTurn(JsonElement e) => new(
        e.GetProperty("task").GetInt32(),
        e.TryGetProperty("taskName", out var name) ? name.GetString() : null,
        e.TryGetProperty("method", out var method) ? method.GetString() : null,
        Duration(e, "durationMs") ?? TimeSpan.Zero,
        Duration(e, "agoMs") ?? TimeSpan.Zero);

    private static LoopTaskInfo ReadTask(JsonElement e)
    {
        var wait = e.GetProperty("wait");
        var reason = new WaitReason(
            Enum.TryParse<WaitKind>(wait.GetProperty("kind").GetString(), out var kind) ? kind : WaitKind.None,
            wait.GetProperty("detail").GetInt64(),
            wait.TryGetProperty("name", out var waitName) ? waitName.GetString() : null);
        return new LoopTaskInfo(
            e.GetProperty("id").GetInt32(),
            e.TryGetProperty("name", out var name) ? name.GetString() : null,
            e.GetProperty("parent").GetInt32(),
            Enum.TryParse<LoopTaskStatus>(e.GetProperty("status").GetString(), out var status) ? status : default,
            reason)
        {
            Children = [.. e.GetProperty("children").EnumerateArray().Select(c => c.GetInt32())],
            State = Enum.TryParse<SchedulingState>(e.GetProperty("state").GetString(), ignoreCase: true, out var state) ? state : default,
            Method = e.TryGetProperty("method", out var method) ? method.GetString() : null,
            WaitTarget = wait.TryGetProperty("target", out var target) ? target.GetString() : null,
            WaitDue = Duration(wait, "dueMs"),
            WaitingFor = Duration(e, "waitingMs"),
            ReadyFor = Duration(e, "readyMs"),
            BusyTime = Duration(e, "busyMs"),
            ScheduledTime = Duration(e, "scheduledMs"),
            LongestTurn = Duration(e, "longestTurnMs"),
            Turns = e.TryGetProperty("turns", out var turns) ? turns.GetInt64() : null,
            Age = Duration(e, "ageMs"),
        };
    }

    private static TimeSpan? Duration(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) ? TimeSpan.FromMilliseconds(value.GetDouble()) : null;
}
