namespace Meanwhile;

/// <summary>
/// What the loop measured of one task while diagnostics are on (see <see cref="LoopMonitor"/>), in
/// <see cref="System.Diagnostics.Stopwatch"/> ticks: tokio-console's busy, scheduled and idle times, and its polls
/// (here, turns). Kept in the task's rare state, so a loop without diagnostics pays nothing for it.
/// </summary>
internal sealed class TaskStats
{
    /// <summary>The work delegate it was spawned with: names its method when the work is not itself an async method.</summary>
    public object? Work;

    /// <summary>When the task was spawned.</summary>
    public long SpawnedAt;

    /// <summary>When the task last became ready to run (queued); 0 when it is not in the ready queue.</summary>
    public long ReadySince;

    /// <summary>When its last turn ended, which is when its current wait began; 0 before its first turn.</summary>
    public long LastTurnEnd;

    /// <summary>Time spent running.</summary>
    public long BusyTicks;

    /// <summary>Time spent ready but not yet running (its scheduled delay), summed over its turns.</summary>
    public long ScheduledTicks;

    /// <summary>The longest of its turns.</summary>
    public long LongestTurnTicks;

    /// <summary>How many times it ran: its first start, then once per resume.</summary>
    public long Turns;
}
