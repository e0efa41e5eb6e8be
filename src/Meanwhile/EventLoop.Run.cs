namespace Meanwhile;

public sealed partial class EventLoop
{
    /// <summary>Runs <paramref name="main"/> on a new loop on the calling thread until it completes, then shuts the loop down (like <c>asyncio.run</c>).</summary>
    /// <param name="main">The main task.</param>
    /// <param name="options">How to set up the loop.</param>
    public static void Run(Func<Task> main, EventLoopOptions? options = null)
    {
        using var loop = new EventLoop(options);
        loop.RunUntilComplete(main);
    }

    /// <summary>Runs <paramref name="main"/> on a new loop on the calling thread and returns its result.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="main">The main task.</param>
    /// <param name="options">How to set up the loop.</param>
    public static T Run<T>(Func<Task<T>> main, EventLoopOptions? options = null)
    {
        using var loop = new EventLoop(options);
        return loop.RunUntilComplete(main);
    }

    /// <summary>
    /// Runs the loop until <paramref name="main"/> completes; then cancels the tasks still alive, runs the loop
    /// until they finish, and reports failures nobody observed. Throws what <paramref name="main"/> threw.
    /// </summary>
    /// <remarks>
    /// A task that does not finish within <see cref="EventLoopOptions.ShutdownGracePeriod"/> of being cancelled (it waits
    /// on something cancellation cannot reach, such as a foreign <see cref="Task"/> awaited without a token) is reported
    /// to <see cref="EventLoopOptions.OnError"/> by name and wait, and given up, so that this returns.
    /// </remarks>
    /// <param name="main">The main task.</param>
    /// <exception cref="InvalidOperationException">A loop already runs on this thread, or this is not the loop's thread.</exception>
    public void RunUntilComplete(Func<Task> main)
    {
        PrepareRun(main);
        var task = Schedule(new LoopTask(this, _root, main, "main"));
        RunMain(task);
        if (task.Status == LoopTaskStatus.Canceled && _stopRequested) return;
        task.EndJoin();
        task.ThrowIfFailed();
    }

    /// <summary>Runs the loop until <paramref name="main"/> completes and returns its result (see <see cref="RunUntilComplete(Func{Task})"/>).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="main">The main task.</param>
    public T RunUntilComplete<T>(Func<Task<T>> main)
    {
        PrepareRun(main);
        var task = Schedule(new LoopTask<T>(this, _root, main, "main"));
        RunMain(task);
        return task.Result;
    }

    private void PrepareRun(Delegate main)
    {
        CheckThread();
        ArgumentNullException.ThrowIfNull(main);
        if (s_running is not null)
            throw new InvalidOperationException("An event loop is already running on this thread; a thread runs one loop at a time. Await the work inside the running loop instead.");
        if (_root.IsCancellationRequested) _root = new RootScope(this); // a previous run was stopped
        _stopRequested = false;
        NoteBaselineContext();
    }

    private void RunMain(LoopTask main)
    {
        var previousContext = SynchronizationContext.Current;
        s_running = this;
        _running = true;
        SynchronizationContext.SetSynchronizationContext(_rootContext);
        try
        {
            RunUntil(main, unwinding: false);
            if (_liveTasks > 0)
            {
                // Nothing outlives the run: cancel what is left and let it unwind.
                _root.CancelCore();
                UnwindOrAbandon(main);
            }
        }
        finally
        {
            SweepUnobserved(); // on every way out: a fault nobody observed is reported, once (see UnobservedFault)
            SynchronizationContext.SetSynchronizationContext(previousContext);
            _running = false;
            s_running = null;
        }
    }

    /// <summary>
    /// Stops the loop: cancels every task (the main task included) so that
    /// <see cref="RunUntilComplete(Func{Task})"/> returns once they have unwound, or once
    /// <see cref="EventLoopOptions.ShutdownGracePeriod"/> has passed for those that do not. From another thread, call it
    /// through <see cref="Post(Action)"/>.
    /// </summary>
    public void Stop()
    {
        CheckThread();
        _stopRequested = true;
        _root.CancelCore();
    }

    /// <summary>
    /// Runs the loop while the cancelled tasks unwind, for at most the grace period (on the loop's clock, so a virtual
    /// clock jumps straight to it when nothing else is pending); then gives up the tasks still alive.
    /// </summary>
    private void UnwindOrAbandon(LoopTask main)
    {
        _graceExpired = false;
        CallbackTimer? grace = _gracePeriod == Timeout.InfiniteTimeSpan
            ? null
            : new CallbackTimer(this, _gracePeriod, () => _graceExpired = true);
        RunUntil(main, unwinding: true);
        grace?.Cancel();
        if (_liveTasks > 0) AbandonStuckTasks();
    }

    /// <summary>
    /// Reports every task still alive after the grace period, by name and what it waits on, and gives it up: it finishes
    /// as cancelled with an <see cref="AbandonedTaskException"/>, and whatever later tries to resume it is dropped and
    /// reported instead of running on a loop that has ended.
    /// </summary>
    private void AbandonStuckTasks()
    {
        var stuck = new List<LoopTask>();
        Collect(_root, stuck);
        foreach (var task in stuck)
        {
            var reason = task.WaitingOn;
            var error = new AbandonedTaskException(
                $"Task #{task.Id}{(task.Name is null ? "" : $" '{task.Name}'")} was cancelled but had not finished {_gracePeriod.TotalSeconds:0.###} s later: " +
                $"it waits on {reason}, which cancellation cannot reach. The loop gave it up. Pass LoopTask.CurrentToken to that " +
                "operation, or await it through EventLoop.Cancellable.",
                reason);
            ReportError(error, "a task was still running after the shutdown grace period", task);
            task.Abandon(error);
        }
        _ready.RemoveOwnedBy(static task => task.IsAbandoned); // what their finishing queued for them (joins) never runs

        static void Collect(CancelScope scope, List<LoopTask> into)
        {
            for (var child = scope.FirstChild; child is not null; child = child.NextSibling)
            {
                if (child is LoopTask task) into.Add(task);
                Collect(child, into);
            }
        }
    }

    /// <summary>A continuation of a task the loop gave up arrived (from another thread, or after the run): it is dropped, and said so.</summary>
    internal void ReportDroppedContinuation(LoopTask task) =>
        ReportError(
            task.Exception ?? new AbandonedTaskException($"Task #{task.Id} was given up.", task.WaitingOn),
            "a continuation of a task the loop had given up arrived after the loop ended; it was dropped",
            task);
}
