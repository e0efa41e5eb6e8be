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
