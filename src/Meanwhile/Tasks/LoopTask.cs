using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Meanwhile.Diagnostics;
using Meanwhile.Scheduling;

namespace Meanwhile;

/// <summary>Where a <see cref="LoopTask"/> is in its life.</summary>
public enum LoopTaskStatus
{
    /// <summary>Spawned, waiting for its first turn on the loop.</summary>
    Scheduled,
    /// <summary>Started and not finished (running or suspended).</summary>
    Running,
    /// <summary>Finished successfully.</summary>
    RanToCompletion,
    /// <summary>Finished with an exception.</summary>
    Faulted,
    /// <summary>Cancelled, before it started or by an <see cref="OperationCanceledException"/>.</summary>
    Canceled,
}

/// <summary>Something a task can be suspended on, as the loop tracks it.</summary>
internal interface ITaskWait
{
    WaitReason Reason { get; }

    /// <summary>Ends the wait because its owner was cancelled (or does nothing if it cannot be interrupted).</summary>
    void CancelFromOwner(LoopTask owner);
}

/// <summary>
/// A task running on an <see cref="EventLoop"/>: an ordinary <c>async</c> method that the loop started
/// (<see cref="EventLoop.Spawn(Func{Task}, string?)"/>), with an id and a name for introspection, a place in
/// the cancellation tree, and an awaiter that always resumes on the loop.
/// </summary>
/// <remarks>
/// Await it directly, or turn it into a <see cref="Task"/> with <see cref="AsTask"/> (or the implicit
/// conversion) to use it with other Task APIs. A task that fails and whose failure nobody ever looks at
/// (by awaiting it, <see cref="AsTask"/> or <see cref="Exception"/>) is reported to the loop's error
/// handler when the loop finishes, or when the task is garbage collected, whichever comes first.
/// </remarks>
public class LoopTask : CancelScope, ILoopWorkItem, ITaskWait
{
    private static readonly AsyncLocal<LoopTask?> s_current = new();

    private Delegate? _work;
    private LoopTaskStatus _status;
    private Exception? _exception;
    private object? _continuations; // null, an Action, or a List<Action>
    private Task? _inner;
    private object? _taskSource; // TaskCompletionSource or TaskCompletionSource<T>, made on demand
    private bool _observed;
    private UnobservedFault? _unobservedFault;

    /// <summary>What the task is suspended on, when the loop knows.</summary>
    internal ITaskWait? CurrentWait;

    /// <summary>The group the task was spawned in, which waits for it.</summary>
    internal TaskGroup? Group;

    internal LoopTask(EventLoop loop, CancelScope parent, Delegate work, string? name) : base(loop, parent)
    {
        _work = work;
        Name = name;
        Id = loop.NextTaskId();
    }

    /// <summary>The task's id, unique within its loop.</summary>
    public int Id { get; }

    /// <summary>The name given at spawn, if any.</summary>
    public string? Name { get; }

    /// <summary>Where the task is in its life.</summary>
    public LoopTaskStatus Status => _status;

    /// <summary>Whether the task has finished, in any way.</summary>
    public bool IsCompleted => _status >= LoopTaskStatus.RanToCompletion;

    /// <summary>The failure or cancellation that ended the task, if any; reading it counts as observing it.</summary>
    public Exception? Exception
    {
        get
        {
            MarkObserved();
            return _exception;
        }
    }

    /// <summary>What the task is waiting for right now, when the loop knows it.</summary>
    public WaitReason WaitingOn => CurrentWait?.Reason ?? WaitReason.None;

    /// <summary>The task whose code is running on the current thread's loop, if any.</summary>
    public static LoopTask? Current
    {
        get
        {
            var task = s_current.Value;
            return task is not null && task.Loop.IsLoopThread ? task : null;
        }
    }

    internal static LoopTask? CurrentOn(EventLoop loop)
    {
        var task = s_current.Value;
        return task is not null && ReferenceEquals(task.Loop, loop) ? task : null;
    }

    /// <summary>Gets an awaiter; the continuation runs on the loop.</summary>
    public LoopTaskAwaiter GetAwaiter() => new(this);

    /// <summary>A <see cref="Task"/> that completes like this task (made once, on first use).</summary>
    public Task AsTask()
    {
        MarkObserved();
        if (_taskSource is null)
        {
            _taskSource = CreateTaskSource();
            if (IsCompleted) CompleteTaskSource();
        }
        return TaskOf(_taskSource);
    }

    /// <summary>Converts the task to a <see cref="Task"/> (see <see cref="AsTask"/>).</summary>
    public static implicit operator Task(LoopTask task) => task.AsTask();

    private protected virtual object CreateTaskSource() => new TaskCompletionSource();

    private protected virtual Task TaskOf(object source) => ((TaskCompletionSource)source).Task;

    private protected virtual void SetTaskSourceResult(object source) => ((TaskCompletionSource)source).TrySetResult();

    private protected virtual void CaptureResult(Task inner) { }

    WaitReason ITaskWait.Reason => new(WaitKind.Task, Id);

    void ITaskWait.CancelFromOwner(LoopTask owner) { } // joining another task is not interrupted; the task itself may be cancelled separately

    private protected override void OnCancelRequested()
    {
        CurrentWait?.CancelFromOwner(this);
    }

    void ILoopWorkItem.Execute() => Start();

    private void Start()
    {
        if (_status != LoopTaskStatus.Scheduled) return;
        var work = _work!;
        _work = null;
        if (IsCancellationRequested)
        {
            Finish(LoopTaskStatus.Canceled, new OperationCanceledException(Token));
            return;
        }
        _status = LoopTaskStatus.Running;
        Loop.Recorder.Record(LoopEventKind.TaskStarted, this);

        Task inner;
        var saved = ExecutionContext.Capture();
        s_current.Value = this;
        try
        {
            inner = work switch
            {
                Func<Task> f => f(),
                Func<CancellationToken, Task> f => f(Token),
                _ => throw new InvalidOperationException("Unsupported work delegate."),
            } ?? throw new InvalidOperationException($"The work of task #{Id} returned a null Task.");
        }
        catch (Exception e)
        {
            inner = Task.FromException(e);
        }
        finally
        {
            if (saved is not null) ExecutionContext.Restore(saved);
            else s_current.Value = null;
        }

        if (inner.IsCompleted) CompleteFrom(inner);
        else
        {
            _inner = inner;
            // Capturing the loop's context matters: completed on the loop, the continuation then runs inline;
            // a context-free continuation would be pushed to the thread pool (the runtime will not inline it
            // under a custom SynchronizationContext) and come back through Post.
            inner.GetAwaiter().UnsafeOnCompleted(OnInnerCompleted);
        }
    }

    private void OnInnerCompleted()
    {
        // The inner task completes on the loop unless its code left the loop (ConfigureAwait(false)).
        if (Loop.IsLoopThread) CompleteFrom(_inner!);
        else Loop.PostFromAnyThread(new ReadyItem(static (object? s) => { var t = (LoopTask)s!; t.CompleteFrom(t._inner!); }, this));
    }

    private void CompleteFrom(Task inner)
    {
        _inner = null;
        switch (inner.Status)
        {
            case TaskStatus.RanToCompletion:
                CaptureResult(inner);
                Finish(LoopTaskStatus.RanToCompletion, null);
                break;
            case TaskStatus.Canceled:
                Exception canceled;
                try { inner.GetAwaiter().GetResult(); canceled = new OperationCanceledException(); }
                catch (OperationCanceledException e) { canceled = e; }
                Finish(LoopTaskStatus.Canceled, canceled);
                break;
            default:
                var errors = inner.Exception!.InnerExceptions;
                Finish(LoopTaskStatus.Faulted, errors.Count == 1 ? errors[0] : inner.Exception);
                break;
        }
    }

    private void Finish(LoopTaskStatus status, Exception? exception)
    {
        _status = status;
        _exception = exception;
        CurrentWait = null;
        Loop.Recorder.Record(status switch
        {
            LoopTaskStatus.RanToCompletion => LoopEventKind.TaskCompleted,
            LoopTaskStatus.Faulted => LoopEventKind.TaskFaulted,
            _ => LoopEventKind.TaskCanceled,
        }, this);

        // Children outlive a plain task (only groups wait for theirs): they move up to our parent so the
        // tree stays whole for cancellation and introspection.
        LeaveTree();
        Loop.OnTaskFinished(this);

        Group?.OnTaskFinished(this);
        if (status == LoopTaskStatus.Faulted && !_observed)
            _unobservedFault = Loop.TrackUnobserved(this, exception!);

        if (_taskSource is not null) CompleteTaskSource();
        RunContinuations();
    }

    private void CompleteTaskSource()
    {
        switch (_status)
        {
            case LoopTaskStatus.RanToCompletion: SetTaskSourceResult(_taskSource!); break;
            case LoopTaskStatus.Canceled:
                var token = (_exception as OperationCanceledException)?.CancellationToken ?? default;
                SetCanceled(_taskSource!, token);
                break;
            default: SetFailed(_taskSource!, _exception!); break;
        }
    }

    private protected virtual void SetCanceled(object source, CancellationToken token) => ((TaskCompletionSource)source).TrySetCanceled(token);

    private protected virtual void SetFailed(object source, Exception error) => ((TaskCompletionSource)source).TrySetException(error);

    private void RunContinuations()
    {
        var continuations = _continuations;
        _continuations = null;
        switch (continuations)
        {
            case null: return;
            case Action single: Loop.EnqueueReady(new ReadyItem(single)); return;
            case List<Action> list:
                foreach (var action in list) Loop.EnqueueReady(new ReadyItem(action));
                return;
        }
    }

    internal void AddContinuation(Action continuation, bool flowExecutionContext)
    {
        if (flowExecutionContext && ExecutionContext.Capture() is { } context)
        {
            var inner = continuation;
            continuation = () => ExecutionContext.Run(context, static s => ((Action)s!)(), inner);
        }
        if (!Loop.IsLoopThread)
        {
            // Awaited from outside the loop: hop to the loop to register, and finish there.
            Loop.PostFromAnyThread(new ReadyItem(static (object? s) => { var (t, c) = ((LoopTask, Action))s!; t.AddContinuation(c, false); }, (this, continuation)));
            return;
        }
        if (IsCompleted)
        {
            Loop.EnqueueReady(new ReadyItem(continuation));
            return;
        }
        var waiter = CurrentOn(Loop);
        if (waiter is not null && waiter != this) waiter.CurrentWait = this;
        switch (_continuations)
        {
            case null: _continuations = continuation; break;
            case Action first: _continuations = new List<Action> { first, continuation }; break;
            case List<Action> list: list.Add(continuation); break;
        }
    }

    internal void EndJoin()
    {
        MarkObserved();
        var waiter = CurrentOn(Loop);
        if (waiter is not null && waiter.CurrentWait == this) waiter.CurrentWait = null;
    }

    private void MarkObserved()
    {
        _observed = true;
        if (_unobservedFault is not null)
        {
            _unobservedFault.MarkObserved();
            _unobservedFault = null;
        }
    }

    internal void ThrowIfFailed()
    {
        switch (_status)
        {
            case LoopTaskStatus.RanToCompletion: return;
            case LoopTaskStatus.Faulted:
            case LoopTaskStatus.Canceled:
                ExceptionDispatchInfo.Throw(_exception!);
                return;
            default:
                throw new InvalidOperationException($"Task #{Id} has not finished; await it instead of reading its result.");
        }
    }
}

/// <summary>A <see cref="LoopTask"/> that produces a value.</summary>
/// <typeparam name="T">The type of the value.</typeparam>
public sealed class LoopTask<T> : LoopTask
{
    private T? _result;

    internal LoopTask(EventLoop loop, CancelScope parent, Delegate work, string? name) : base(loop, parent, work, name) { }

    /// <summary>The value; throws the task's exception if it failed, or if it has not finished.</summary>
    public T Result
    {
        get
        {
            EndJoin();
            ThrowIfFailed();
            return _result!;
        }
    }

    /// <summary>Gets an awaiter; the continuation runs on the loop.</summary>
    public new LoopTaskAwaiter<T> GetAwaiter() => new(this);

    /// <summary>A <see cref="Task{TResult}"/> that completes like this task.</summary>
    public new Task<T> AsTask() => (Task<T>)base.AsTask();

    private protected override object CreateTaskSource() => new TaskCompletionSource<T>();
    private protected override Task TaskOf(object source) => ((TaskCompletionSource<T>)source).Task;
    private protected override void SetTaskSourceResult(object source) => ((TaskCompletionSource<T>)source).TrySetResult(_result!);
    private protected override void SetCanceled(object source, CancellationToken token) => ((TaskCompletionSource<T>)source).TrySetCanceled(token);
    private protected override void SetFailed(object source, Exception error) => ((TaskCompletionSource<T>)source).TrySetException(error);
    private protected override void CaptureResult(Task inner) => _result = ((Task<T>)inner).Result;
}

/// <summary>Awaiter of a <see cref="LoopTask"/>.</summary>
public readonly struct LoopTaskAwaiter : ICriticalNotifyCompletion
{
    private readonly LoopTask _task;

    internal LoopTaskAwaiter(LoopTask task) => _task = task;

    /// <summary>Whether the task has finished.</summary>
    public bool IsCompleted => _task.IsCompleted;

    /// <summary>Schedules the continuation to run on the loop once the task finishes.</summary>
    public void OnCompleted(Action continuation) => _task.AddContinuation(continuation, flowExecutionContext: true);

    /// <summary>Schedules the continuation to run on the loop once the task finishes.</summary>
    public void UnsafeOnCompleted(Action continuation) => _task.AddContinuation(continuation, flowExecutionContext: false);

    /// <summary>Ends the await: throws the task's exception if it failed or was cancelled.</summary>
    public void GetResult()
    {
        _task.EndJoin();
        _task.ThrowIfFailed();
    }
}

/// <summary>Awaiter of a <see cref="LoopTask{T}"/>.</summary>
/// <typeparam name="T">The type of the task's value.</typeparam>
public readonly struct LoopTaskAwaiter<T> : ICriticalNotifyCompletion
{
    private readonly LoopTask<T> _task;

    internal LoopTaskAwaiter(LoopTask<T> task) => _task = task;

    /// <summary>Whether the task has finished.</summary>
    public bool IsCompleted => _task.IsCompleted;

    /// <summary>Schedules the continuation to run on the loop once the task finishes.</summary>
    public void OnCompleted(Action continuation) => _task.AddContinuation(continuation, flowExecutionContext: true);

    /// <summary>Schedules the continuation to run on the loop once the task finishes.</summary>
    public void UnsafeOnCompleted(Action continuation) => _task.AddContinuation(continuation, flowExecutionContext: false);

    /// <summary>Ends the await: the task's value, or its exception.</summary>
    public T GetResult() => _task.Result;
}

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
