namespace Meanwhile.Scheduling;

/// <summary>
/// Installed on the loop thread while the loop runs, so that <c>await</c> in loop code comes back to the
/// loop: a continuation posted from another thread goes through the loop's thread-safe queue, one posted
/// on the loop thread joins the ready queue.
/// </summary>
internal sealed class LoopSynchronizationContext : SynchronizationContext
{
    private readonly EventLoop _loop;

    public LoopSynchronizationContext(EventLoop loop) => _loop = loop;

    public EventLoop Loop => _loop;

    public override void Post(SendOrPostCallback d, object? state) => _loop.PostFromAnyThread(ReadyItem.FromPost(d, state));

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (_loop.IsLoopThread)
        {
            d(state);
            return;
        }
        using var done = new ManualResetEventSlim();
        Exception? error = null;
        _loop.PostFromAnyThread(new ReadyItem((object? _) =>
        {
            try { d(state); }
            catch (Exception e) { error = e; }
            finally { done.Set(); }
        }, null));
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
