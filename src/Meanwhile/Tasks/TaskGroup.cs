
namespace Meanwhile;

/// <summary>
/// Structured concurrency (asyncio's TaskGroup, trio's nursery): tasks spawned in a group never outlive it;
/// the first failure cancels the others; when all have finished, the failures are thrown together.
/// </summary>
/// <example>
/// <code>
/// await TaskGroup.RunAsync(async group =>
/// {
///     group.Spawn(() => FetchAsync("/a"));
///     group.Spawn(() => FetchAsync("/b"));
/// }); // returns once both finished; throws AggregateException if any failed
/// </code>
/// </example>
public sealed class TaskGroup : CancelScope, ITaskWait
{
    private readonly List<Exception> _failures = new();
    private readonly TaskCompletionSource _allDone = new();
    private int _running;
    private bool _closed;

    private TaskGroup(EventLoop loop, CancelScope parent) : base(parent) => Loop = loop;

    /// <inheritdoc />
    public override EventLoop Loop { get; }

    /// <summary>How many of the group's tasks are still running.</summary>
    public int RunningCount => _running;

    /// <summary>
    /// Runs <paramref name="body"/> with a new group on the current loop, waits for every task of the group,
    /// and throws an <see cref="AggregateException"/> of every failure (the body's included) if any failed.
    /// </summary>
    /// <param name="body">Code that spawns the group's tasks; it runs as one of them.</param>
    /// <param name="cancellationToken">Cancels the whole group.</param>
    /// <exception cref="AggregateException">One or more tasks of the group failed.</exception>
    /// <exception cref="OperationCanceledException">The group was cancelled from outside.</exception>
    public static async Task RunAsync(Func<TaskGroup, Task> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        await RunAsync(async group => { await body(group); return true; }, cancellationToken);
    }

    /// <summary>Runs <paramref name="body"/> with a new group and returns the body's value once every task has finished.</summary>
    /// <typeparam name="T">The body's value type.</typeparam>
    /// <param name="body">Code that spawns the group's tasks.</param>
    /// <param name="cancellationToken">Cancels the whole group.</param>
    public static async Task<T> RunAsync<T>(Func<TaskGroup, Task<T>> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var loop = EventLoop.Current;
        loop.CheckThread();
        var group = new TaskGroup(loop, (CancelScope?)LoopTask.CurrentOn(loop) ?? loop.RootScope);
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s =>
            {
                var g = (TaskGroup)s!;
                try { g.Loop.Post(g.CancelCore); } catch (ObjectDisposedException) { }
            }, group)
            : default;
        var bodyTask = group.Spawn(() => body(group), "task group body");
        var owner = LoopTask.CurrentOn(loop);
        if (owner is not null) owner.CurrentWait = group;
        loop.Recorder.Record(LoopEventKind.WaitStarted, owner, ((ITaskWait)group).Reason);
        try
        {
            await group._allDone.Task;
        }
        finally
        {
            if (owner is not null && owner.CurrentWait == group) owner.CurrentWait = null;
            loop.Recorder.Record(LoopEventKind.WaitEnded, owner, ((ITaskWait)group).Reason);
        }
        if (group._failures.Count > 0)
            throw new AggregateException($"{group._failures.Count} task(s) of the group failed.", group._failures);
        if (bodyTask.Status == LoopTaskStatus.Canceled)
            throw new OperationCanceledException("The task group was cancelled.", bodyTask.Exception, cancellationToken.IsCancellationRequested ? cancellationToken : group.Token);
        return bodyTask.Result;
    }

    /// <summary>Spawns a task in the group (see <see cref="EventLoop.Spawn(Func{Task}, string?)"/>).</summary>
    /// <param name="work">The task's code.</param>
    /// <param name="name">A name for introspection.</param>
    /// <exception cref="InvalidOperationException">The group has finished.</exception>
    public LoopTask Spawn(Func<Task> work, string? name = null) => Add(new LoopTask(Loop, this, CheckSpawn(work), name));

    /// <summary>Spawns a task in the group that receives the group's cancellation token.</summary>
    /// <param name="work">The task's code.</param>
    /// <param name="name">A name for introspection.</param>
    public LoopTask Spawn(Func<CancellationToken, Task> work, string? name = null) => Add(new LoopTask(Loop, this, CheckSpawn(work), name));

    /// <summary>Spawns a task in the group that produces a value.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="work">The task's code.</param>
    /// <param name="name">A name for introspection.</param>
    public LoopTask<T> Spawn<T>(Func<Task<T>> work, string? name = null) => Add(new LoopTask<T>(Loop, this, CheckSpawn(work), name));

    private Delegate CheckSpawn(Delegate work)
    {
        Loop.CheckThread();
        ArgumentNullException.ThrowIfNull(work);
        if (_closed) throw new InvalidOperationException("This task group has finished; it accepts no more tasks.");
        return work;
    }

    private TTask Add<TTask>(TTask task) where TTask : LoopTask
    {
        task.Group = this;
        _running++;
        return Loop.Schedule(task);
    }

    /// <summary>Called by a task of the group when it finishes.</summary>
    internal void OnTaskFinished(LoopTask task)
    {
        if (task.Status == LoopTaskStatus.Faulted)
        {
            _failures.Add(task.Exception!); // reading it marks it observed: the group reports it
            CancelCore();
        }
        if (--_running == 0)
        {
            _closed = true;
            LeaveTree();
            _allDone.TrySetResult();
        }
    }

    WaitReason ITaskWait.Reason => new(WaitKind.Tasks, _running);

    void ITaskWait.CancelFromOwner(LoopTask owner) { } // the owner's cancellation reaches the group through the scope tree
}
