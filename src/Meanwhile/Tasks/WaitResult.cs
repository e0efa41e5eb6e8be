namespace Meanwhile;

/// <summary>What <see cref="EventLoop.Wait(IEnumerable{Task}, WaitMode, TimeSpan?, CancellationToken)"/> returns: the tasks that finished and those still pending, each in the order given.</summary>
/// <param name="Done">Finished tasks.</param>
/// <param name="Pending">Tasks not finished yet.</param>
public sealed record WaitResult(IReadOnlyList<Task> Done, IReadOnlyList<Task> Pending);
