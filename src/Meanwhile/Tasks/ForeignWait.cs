using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>
/// What a task is suspended on when the loop did not see it register a wait of its own: a <see cref="Task"/> or other
/// awaitable the loop does not run. The loop cannot end such a wait (C# cannot throw into an awaiting method), so its
/// task's cancellation does nothing here; introspection shows it for what it is rather than as nothing.
/// </summary>
internal sealed class ForeignAwait : ITaskWait
{
    public static readonly ForeignAwait Instance = new();

    public WaitReason Reason => new(WaitKind.Foreign, 0);

    public void CancelFromOwner(LoopTask owner) { } // nothing the loop can reach
}

/// <summary>
/// A wait on a foreign task through <see cref="EventLoop.Cancellable(Task, CancellationToken)"/>: a loop wait that ends with the task's
/// outcome, or with <see cref="OperationCanceledException"/> as soon as the waiting task (or a scope around it) is
/// cancelled, abandoning the foreign operation, which runs on unobserved (as <see cref="Task.WaitAsync(CancellationToken)"/> does).
/// </summary>
internal sealed class ForeignTaskWait<T> : LoopWait, IValueTaskSource<T>
{
    private Task? _task;

    public ForeignTaskWait(EventLoop loop) : base(loop) { }

    public override WaitReason Reason => new(WaitKind.Foreign, 1);

    /// <summary>Starts waiting for <paramref name="task"/>; await the result through <see cref="Typed"/> or <see cref="Untyped"/>.</summary>
    public ForeignTaskWait<T> Start(Task task, LoopTask? owner, CancellationToken token)
    {
        if (Begin(token, owner))
        {
            _task = task;
            // Registered under the current (the task's) context: it runs inline when the foreign task completes on the
            // loop in this task, and comes back through the ready queue otherwise.
            task.GetAwaiter().UnsafeOnCompleted(OnTaskCompleted);
        }
        return this;
    }

    public ValueTask<T> Typed => new(this, Version);

    public ValueTask Untyped => AsValueTask();

    private void OnTaskCompleted()
    {
        if (!IsPending) return; // abandoned: cancelled first
        if (_task!.IsCompletedSuccessfully) CompleteSuccess();
        else if (_task.IsCanceled) CompleteError(new TaskCanceledException(_task));
        else CompleteError(_task.Exception!.InnerExceptions.Count == 1 ? _task.Exception.InnerException! : _task.Exception);
    }

    T IValueTaskSource<T>.GetResult(short token)
    {
        GetResult(token);
        var task = _task!;
        _task = null;
        return task is Task<T> typed ? typed.Result : default!;
    }
}
