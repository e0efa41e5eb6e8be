using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>
/// Stands for a failed task nobody has looked at. It is finalizable on its own, so a failure is still
/// reported if the task is collected while the loop runs (as .NET and asyncio do), at no cost to tasks
/// that do not fail.
/// </summary>
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

    public void MarkObserved()
    {
        if (Interlocked.Exchange(ref _done, 1) == 0) GC.SuppressFinalize(this);
    }

    /// <summary>Reports the failure unless it was observed or reported already.</summary>
    public void ReportNow()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return;
        GC.SuppressFinalize(this);
        _loop.ReportUnobserved(this);
    }

    ~UnobservedFault()
    {
        if (Interlocked.Exchange(ref _done, 1) == 0) _loop.ReportUnobservedFromFinalizer(this);
    }
}
