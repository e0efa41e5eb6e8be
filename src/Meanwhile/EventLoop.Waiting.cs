
namespace Meanwhile;

public sealed partial class EventLoop
{
    /// <summary>
    /// Waits for the tasks as <paramref name="mode"/> says, or until <paramref name="timeout"/> passes, and tells which
    /// finished and which are still pending (like asyncio.wait). It never throws the tasks' exceptions and cancels nothing.
    /// </summary>
    /// <param name="tasks">The tasks (LoopTasks convert implicitly).</param>
    /// <param name="mode">When to return.</param>
    /// <param name="timeout">Return after this long even if the condition is not met; null to wait without limit.</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
    public Task<WaitResult> Wait(IEnumerable<Task> tasks, WaitMode mode = WaitMode.AllCompleted, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        CheckThread();
        var array = ToArray(tasks);
        if (timeout is { } t) ArgumentOutOfRangeException.ThrowIfLessThan(t, TimeSpan.Zero);
        return new WaitOperation(this, array, mode).Start(timeout, cancellationToken);
    }

    /// <summary>Waits until every task has finished; then throws the first failure, like <see cref="Task.WhenAll(IEnumerable{Task})"/>.</summary>
    /// <param name="tasks">The tasks.</param>
    /// <param name="cancellationToken">Ends the wait early.</param>
    public async Task WhenAll(IEnumerable<Task> tasks, CancellationToken cancellationToken = default)
    {
        // One runtime promise over all the tasks (no per-task continuation object), waited on through the loop so
        // that the wait shows in introspection and ends when the calling task is cancelled.
        var all = Task.WhenAll(ToArray(tasks));
        if (!all.IsCompleted) await Wait([all], WaitMode.AllCompleted, null, cancellationToken);
        await all; // finished: this only surfaces the tasks' exceptions
    }

    /// <summary>Waits until every task has finished (see <see cref="WhenAll(IEnumerable{Task}, CancellationToken)"/>).</summary>
    /// <param name="tasks">The tasks.</param>
    public Task WhenAll(params Task[] tasks) => WhenAll((IEnumerable<Task>)tasks);

    /// <summary>Waits until every task has finished and returns their values in order.</summary>
    /// <typeparam name="T">The values' type.</typeparam>
    /// <param name="tasks">The tasks.</param>
    /// <param name="cancellationToken">Ends the wait early.</param>
    public async Task<T[]> WhenAll<T>(IEnumerable<Task<T>> tasks, CancellationToken cancellationToken = default)
    {
        CheckThread();
        ArgumentNullException.ThrowIfNull(tasks);
        var all = Task.WhenAll(tasks);
        if (!all.IsCompleted) await Wait([all], WaitMode.AllCompleted, null, cancellationToken);
        return await all;
    }

    /// <summary>Waits until any task finishes and returns it.</summary>
    /// <param name="tasks">The tasks; at least one.</param>
    /// <param name="cancellationToken">Ends the wait early.</param>
    public async Task<Task> WhenAny(IEnumerable<Task> tasks, CancellationToken cancellationToken = default)
    {
        CheckThread();
        var array = ToArray(tasks);
        if (array.Length == 0) throw new ArgumentException("WhenAny needs at least one task.", nameof(tasks));
        var operation = new WaitOperation(this, array, WaitMode.FirstCompleted);
        await operation.Start(null, cancellationToken);
        return operation.First!;
    }

    /// <summary>Waits until any task finishes and returns it.</summary>
    /// <param name="tasks">The tasks; at least one.</param>
    public Task<Task> WhenAny(params Task[] tasks) => WhenAny((IEnumerable<Task>)tasks);

    private static Task[] ToArray(IEnumerable<Task> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        var array = tasks.ToArray();
        foreach (var task in array) ArgumentNullException.ThrowIfNull(task, nameof(tasks));
        return array;
    }
}
