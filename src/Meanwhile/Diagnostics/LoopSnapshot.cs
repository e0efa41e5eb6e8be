namespace Meanwhile;

/// <summary>
/// A loop as a snapshot sees it: its figures and its live tasks (<see cref="EventLoop.TakeSnapshot"/>, one loop of a
/// <see cref="ProcessSnapshot"/>). Counters (<see cref="Turns"/>, <see cref="SpawnedTasks"/>, <see cref="BusyTime"/>)
/// count since the loop was made: a rate is the difference between two snapshots over the time between them.
/// </summary>
public sealed class LoopSnapshot
{
    /// <summary>The loop's id, unique in its process (<see cref="EventLoop.Id"/>).</summary>
    public required int LoopId { get; init; }

    /// <summary>The loop's name (<see cref="EventLoop.Name"/>).</summary>
    public required string Name { get; init; }

    /// <summary>"epoll" or "portable".</summary>
    public required string Reactor { get; init; }

    /// <summary>
    /// Whether the snapshot was taken on the loop thread in one turn, so every figure belongs to one moment. False when
    /// the loop did not answer in time (a turn that does not end: see <see cref="RunningTurn"/>) or was not running: the
    /// figures were then read from another thread while the loop went on, and may disagree a little.
    /// </summary>
    public bool IsConsistent { get; init; }

    /// <summary>Whether the loop was running (inside <see cref="EventLoop.RunUntilComplete(Func{Task})"/>).</summary>
    public bool IsRunning { get; init; }

    /// <summary>How long the request for this snapshot waited in the loop's queue before the loop took it up; null when not asked through the endpoint.</summary>
    public TimeSpan? Lag { get; init; }

    /// <summary>Turns of the loop so far (each: take posts, fire timers, run what is ready, poll).</summary>
    public long Turns { get; init; }

    /// <summary>Time spent running tasks and callbacks (diagnostics on), else null.</summary>
    public TimeSpan? BusyTime { get; init; }

    /// <summary>Items waiting in the ready queue.</summary>
    public int ReadyQueueLength { get; init; }

    /// <summary>Timers armed.</summary>
    public int Timers { get; init; }

    /// <summary>Descriptors (epoll) or sockets (portable) registered with the reactor; null where the reactor does not count them.</summary>
    public int? Descriptors { get; init; }

    /// <summary>Tasks alive.</summary>
    public int LiveTasks { get; init; }

    /// <summary>Tasks spawned so far.</summary>
    public long SpawnedTasks { get; init; }

    /// <summary>Turns longer than <see cref="SlowTurnThreshold"/> so far (diagnostics on), else null.</summary>
    public long? SlowTurns { get; init; }

    /// <summary>The loop's slow-turn threshold (diagnostics on), else null.</summary>
    public TimeSpan? SlowTurnThreshold { get; init; }

    /// <summary>The last slow turn, if there was one.</summary>
    public LoopTurn? LastSlowTurn { get; init; }

    /// <summary>The turn running when the snapshot was read from outside the loop, if any: a task that does not yield shows here.</summary>
    public LoopTurn? RunningTurn { get; init; }

    /// <summary>Figures that code on the loop adds (<see cref="EventLoop.AddSnapshotFigure"/>): an HTTP server's connections and requests.</summary>
    public IReadOnlyDictionary<string, long> Figures { get; init; } = new Dictionary<string, long>();

    /// <summary>The live tasks, parents before their children, up to the snapshot's bound.</summary>
    public IReadOnlyList<LoopTaskInfo> Tasks { get; init; } = [];

    /// <summary>Live tasks left out because the snapshot reached its bound.</summary>
    public int TasksOmitted { get; init; }
}
