namespace Meanwhile;

/// <summary>
/// Stands for a failed task nobody has looked at. The loop holds it until it is observed or reported, so the sweep at
/// the end of a run reports every one left; a <see cref="Watch"/> held by the task alone reports it earlier, when the task
/// is collected while the loop runs (as .NET and asyncio do), at no cost to tasks that do not fail.
/// </summary>
/// <remarks>
/// The fault itself is not finalizable: had it been (and the loop's reference weak), a collection just before the sweep
/// would have taken it out of the sweep's reach, and its finalizer could report it after the run had returned, on the
/// finalizer thread. Now the report is made exactly once, by whichever comes first, on the loop's thread while it runs.
/// </remarks>
internal sealed class UnobservedFault
{
    private readonly EventLoop _loop;
    private int _done; // 1 once observed or reported

    public UnobservedFault(EventLoop loop, LoopTask task, Exception exception)
    {
        _loop = loop;
        Exception = exception;
        TaskId = task.Id;
        TaskName = task.Name;
    }

    public EventLoop Loop => _loop;
    public Exception Exception { get; }
    public int TaskId { get; }
    public string? TaskName { get; }

    /// <summary>Whether it was observed or reported: the loop may forget it.</summary>
    public bool IsDone => Volatile.Read(ref _done) != 0;

    /// <summary>Reports the failure unless it was observed or reported already.</summary>
    public void ReportNow()
    {
        if (Interlocked.Exchange(ref _done, 1) == 0) _loop.ReportUnobserved(this);
    }

    /// <summary>
    /// What the failed task holds (nothing else does): finalized when the task is collected, it asks the loop to report
    /// the fault; observing the task cancels that.
    /// </summary>
    internal sealed class Watch(UnobservedFault fault)
    {
        public void MarkObserved()
        {
            if (Interlocked.Exchange(ref fault._done, 1) == 0) GC.SuppressFinalize(this);
        }

        ~Watch()
        {
            if (!fault.IsDone) fault._loop.ReportUnobservedFromFinalizer(fault);
        }
    }
}
