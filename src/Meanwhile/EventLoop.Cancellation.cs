namespace Meanwhile;

public sealed partial class EventLoop
{
    /// <summary>
    /// Waits for a task the loop does not run (a <c>Channel</c> read, a <c>SemaphoreSlim</c>, a database driver's call)
    /// as a loop wait: it ends with the task's outcome, or with <see cref="OperationCanceledException"/> as soon as the
    /// calling task or a scope around it (<see cref="WithTimeout(TimeSpan, Func{CancellationToken, Task})"/>, a
    /// <see cref="TaskGroup"/>, <see cref="Stop"/>) is cancelled. The foreign operation is then abandoned: it runs on and
    /// its outcome is ignored. <see cref="GetTasks"/> shows the wait as one on a task the loop does not run.
    /// </summary>
    /// <remarks>
    /// C# cannot throw into a method suspended on an arbitrary awaitable, so a plain <c>await</c> on a foreign task is
    /// out of the loop's reach. Prefer passing <see cref="LoopTask.CurrentToken"/> to APIs that take a token (the
    /// operation itself is then cancelled, not only abandoned); use this for the ones that do not.
    /// </remarks>
    /// <param name="task">The foreign task.</param>
    /// <param name="cancellationToken">Ends the wait early too.</param>
    public ValueTask Cancellable(Task task, CancellationToken cancellationToken = default)
    {
        var owner = CheckThreadGetTask();
        ArgumentNullException.ThrowIfNull(task);
        if (task.IsCompleted) return new ValueTask(task);
        return new ForeignTaskWait<bool>(this).Start(task, owner, cancellationToken).Untyped;
    }

    /// <summary>Waits for a foreign task and returns its result, cancellably (see <see cref="Cancellable(Task, CancellationToken)"/>).</summary>
    /// <typeparam name="T">The result's type.</typeparam>
    /// <param name="task">The foreign task.</param>
    /// <param name="cancellationToken">Ends the wait early too.</param>
    public ValueTask<T> Cancellable<T>(Task<T> task, CancellationToken cancellationToken = default)
    {
        var owner = CheckThreadGetTask();
        ArgumentNullException.ThrowIfNull(task);
        if (task.IsCompleted) return new ValueTask<T>(task);
        return new ForeignTaskWait<T>(this).Start(task, owner, cancellationToken).Typed;
    }

    /// <summary>Waits for a foreign <see cref="ValueTask"/>, cancellably (see <see cref="Cancellable(Task, CancellationToken)"/>).</summary>
    /// <param name="task">The foreign operation.</param>
    /// <param name="cancellationToken">Ends the wait early too.</param>
    public ValueTask Cancellable(ValueTask task, CancellationToken cancellationToken = default) =>
        task.IsCompleted ? task : Cancellable(task.AsTask(), cancellationToken);

    /// <summary>Waits for a foreign <see cref="ValueTask{TResult}"/> and returns its result, cancellably.</summary>
    /// <typeparam name="T">The result's type.</typeparam>
    /// <param name="task">The foreign operation.</param>
    /// <param name="cancellationToken">Ends the wait early too.</param>
    public ValueTask<T> Cancellable<T>(ValueTask<T> task, CancellationToken cancellationToken = default) =>
        task.IsCompleted ? task : Cancellable(task.AsTask(), cancellationToken);
}
