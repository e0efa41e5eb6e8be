namespace Meanwhile;

/// <summary>The kinds of event a <see cref="LoopEventRecorder"/> records.</summary>
public enum LoopEventKind
{
    /// <summary>A task was spawned (scheduled to start).</summary>
    TaskSpawned,
    /// <summary>A task started running.</summary>
    TaskStarted,
    /// <summary>A task ran to completion.</summary>
    TaskCompleted,
    /// <summary>A task failed.</summary>
    TaskFaulted,
    /// <summary>A task was cancelled.</summary>
    TaskCanceled,
    /// <summary>A task began waiting (see <see cref="LoopEvent.Reason"/>).</summary>
    WaitStarted,
    /// <summary>A task's wait ended and it resumed.</summary>
    WaitEnded,
    /// <summary>A label recorded by code on the loop through <see cref="LoopEventRecorder.Mark(string)"/>.</summary>
    Mark,
}

/// <summary>One recorded event of the loop.</summary>
/// <param name="Time">When it happened, measured on the loop's clock from the moment recording started.</param>
/// <param name="Kind">What happened.</param>
/// <param name="TaskId">The task it concerns (0 for none).</param>
/// <param name="Reason">For waits: what was waited for.</param>
/// <param name="Label">For marks and spawns: the label or task name.</param>
public readonly record struct LoopEvent(TimeSpan Time, LoopEventKind Kind, int TaskId, WaitReason Reason, string? Label);
