namespace Meanwhile;

/// <summary>A snapshot of a live task, for introspection (<see cref="EventLoop.GetTasks"/>, <c>meanwhile ps</c>).</summary>
/// <remarks>
/// The times (<see cref="BusyTime"/>, <see cref="ScheduledTime"/>, <see cref="WaitingFor"/>...) are measured only while
/// the loop's diagnostics are on (<see cref="EventLoopOptions.Diagnostics"/>); they are null otherwise. They are wall
/// time on the system clock, also under a <see cref="VirtualClock"/>; <see cref="WaitDue"/> is on the loop's clock.
/// </remarks>
/// <param name="Id">The task's id.</param>
/// <param name="Name">Its name, if any.</param>
/// <param name="ParentId">The id of the task it was spawned from (0 for none).</param>
/// <param name="Status">Where it is in its life.</param>
/// <param name="WaitingOn">What it waits for, when the loop knows.</param>
public readonly record struct LoopTaskInfo(int Id, string? Name, int ParentId, LoopTaskStatus Status, WaitReason WaitingOn)
{
    private readonly IReadOnlyList<int>? _children;

    /// <summary>Running, ready or waiting.</summary>
    public SchedulingState State { get; init; }

    /// <summary>The task's async method, as code names it ("ServerConnection.RunAsync"), or its work delegate's before it starts.</summary>
    public string? Method { get; init; }

    /// <summary>The ids of the live tasks it spawned that are in the same snapshot.</summary>
    public IReadOnlyList<int> Children { get => _children ?? []; init => _children = value; }

    /// <summary>What exactly it waits on, when the loop can say more than <see cref="WaitingOn"/>: a descriptor's addresses ("tcp 127.0.0.1:8080 &lt;-&gt; 127.0.0.1:50412").</summary>
    public string? WaitTarget { get; init; }

    /// <summary>For a timer: how long until it fires (negative when overdue), on the loop's clock.</summary>
    public TimeSpan? WaitDue { get; init; }

    /// <summary>For a waiting task: how long since its last turn ended, which is when its wait began.</summary>
    public TimeSpan? WaitingFor { get; init; }

    /// <summary>For a ready task: how long it has been in the ready queue.</summary>
    public TimeSpan? ReadyFor { get; init; }

    /// <summary>How long it has spent running.</summary>
    public TimeSpan? BusyTime { get; init; }

    /// <summary>How long it has spent ready but not yet running (its scheduled delay), over all its turns.</summary>
    public TimeSpan? ScheduledTime { get; init; }

    /// <summary>Its longest turn.</summary>
    public TimeSpan? LongestTurn { get; init; }

    /// <summary>How many times it ran: its start, then once per resume.</summary>
    public long? Turns { get; init; }

    /// <summary>How long since it was spawned.</summary>
    public TimeSpan? Age { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"#{Id}{(Name is null ? "" : $" {Name}")} {Status}, waiting on {WaitingOn}";
}
