namespace Meanwhile;

/// <summary>
/// The loop's synchronization context. There is one for the loop itself and one per running task: the loop installs
/// the right one before it runs a piece of work, every <c>await</c> captures it, and its <see cref="Post"/> brings the
/// continuation back to the loop tagged with its task. That is how the loop knows, cheaply and exactly, which task is
/// running — without an <see cref="AsyncLocal{T}"/> (which would cost an ExecutionContext per task and a context
/// switch on every resume).
/// </summary>
/// <remarks>
/// The runtime runs a continuation inline only when the completing code runs under the same context; so a task
/// resumed by another task's code is posted (to the end of the ready queue) rather than run inside the other task.
/// </remarks>
internal sealed class LoopSynchronizationContext : SynchronizationContext
{
    public LoopSynchronizationContext(EventLoop loop, LoopTask? task)
    {
        Loop = loop;
        Task = task;
    }

    public EventLoop Loop { get; }

    /// <summary>The task this context runs, or null for the loop's own context.</summary>
    public LoopTask? Task { get; }

    /// <summary>
    /// Brings a continuation back to the loop, in its task. One that arrives for a task the loop gave up (see
    /// <see cref="EventLoopOptions.ShutdownGracePeriod"/>), or after the loop was disposed, is dropped and reported:
    /// it must not run on a loop that has ended, and the thread completing a foreign task must not get an exception.
    /// </summary>
    public override void Post(SendOrPostCallback d, object? state)
    {
        if (Task is { IsAbandoned: true })
        {
            Loop.ReportDroppedContinuation(Task);
            return;
        }
        try
        {
            Loop.PostFromAnyThread(ReadyItem.FromPost(d, state, Task));
        }
        catch (ObjectDisposedException e)
        {
            Loop.ReportError(e, "a continuation arrived after the loop was disposed; it was dropped", Task);
        }
    }

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (Loop.IsLoopThread)
        {
            d(state);
            return;
        }
        using var done = new ManualResetEventSlim();
        Exception? error = null;
        Loop.PostFromAnyThread(new ReadyItem((object? _) =>
        {
            try { d(state); }
            catch (Exception e) { error = e; }
            finally { done.Set(); }
        }, null, Task));
        done.Wait();
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
    }

    public override SynchronizationContext CreateCopy() => this;
}

/// <summary>
/// A <see cref="TaskScheduler"/> that runs tasks on the loop, for APIs that take a scheduler
/// (<c>Task.Factory.StartNew</c>, <c>ContinueWith</c>). The loop never installs it as the ambient
/// <see cref="TaskScheduler.Current"/>: code that expects the default scheduler keeps getting it.
/// </summary>
internal sealed class LoopTaskScheduler : TaskScheduler
{
    private readonly EventLoop _loop;

    public LoopTaskScheduler(EventLoop loop) => _loop = loop;

    protected override void QueueTask(Task task) =>
        _loop.PostFromAnyThread(new ReadyItem(static (object? s) => { var (scheduler, t) = ((LoopTaskScheduler, Task))s!; scheduler.TryExecuteTask(t); }, (this, task)));

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        _loop.IsLoopThread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => Array.Empty<Task>();

    public override int MaximumConcurrencyLevel => 1;
}
