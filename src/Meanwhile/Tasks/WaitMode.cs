namespace Meanwhile;

/// <summary>When <see cref="EventLoop.Wait(IEnumerable{Task}, WaitMode, TimeSpan?, CancellationToken)"/> returns (asyncio.wait's return_when).</summary>
public enum WaitMode
{
    /// <summary>When every task has finished.</summary>
    AllCompleted,
    /// <summary>When any task finishes.</summary>
    FirstCompleted,
    /// <summary>When any task fails (cancellation does not count), or when all have finished.</summary>
    FirstException,
}

/// <summary>What <see cref="EventLoop.Wait(IEnumerable{Task}, WaitMode, TimeSpan?, CancellationToken)"/> returns: the tasks that finished and those still pending, each in the order given.</summary>
/// <param name="Done">Finished tasks.</param>
/// <param name="Pending">Tasks not finished yet.</param>
public sealed record WaitResult(IReadOnlyList<Task> Done, IReadOnlyList<Task> Pending);
