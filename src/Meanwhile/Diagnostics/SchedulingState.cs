namespace Meanwhile;

/// <summary>Where a live task is in the loop's schedule at the moment of a snapshot.</summary>
public enum SchedulingState
{
    /// <summary>Suspended until something happens (see <see cref="LoopTaskInfo.WaitingOn"/>).</summary>
    Waiting,
    /// <summary>In the ready queue: it will run on one of the next turns.</summary>
    Ready,
    /// <summary>
    /// Running on the loop thread. Only a snapshot read from outside the loop shows it: the loop did not answer in time,
    /// because this task's turn has been running all along (a task that never yields).
    /// </summary>
    Running,
}
