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
