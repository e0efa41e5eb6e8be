namespace Meanwhile;

/// <summary>
/// Why the loop gave up a task at the end of a run: it was cancelled, and had still not finished when
/// <see cref="EventLoopOptions.ShutdownGracePeriod"/> ran out, because it waited on something cancellation cannot reach.
/// Reported to <see cref="EventLoopOptions.OnError"/>; the task finishes as cancelled with it.
/// </summary>
public sealed class AbandonedTaskException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which task, and what it waited on.</param>
    /// <param name="waitingOn">What the task waited on when it was given up.</param>
    public AbandonedTaskException(string message, WaitReason waitingOn) : base(message) => WaitingOn = waitingOn;

    /// <summary>What the task waited on when it was given up.</summary>
    public WaitReason WaitingOn { get; }
}
