using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

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
public partial class LoopTask : CancelScope, ITaskWait, IValueTaskSource
{
    // Tells a task that its async method finished, when it finished outside the loop's view (see AfterTurn). It is one
    // shared delegate: the runtime invokes it either inline under the task's own synchronization context or posts it
    // to that context, so the current context tells which task finished — no delegate per task.
    private static readonly Action OnInnerCompleted = static () =>
    {
        var task = ((LoopSynchronizationContext)SynchronizationContext.Current!).Task!;
        if (task._status == LoopTaskStatus.Running) task.CompleteFrom(task.Inner);
    };

    private object? _workOrInner; // the work delegate until the task starts, then the Task it returned
    private LoopTaskStatus _status;
    private bool _observed;
    private bool _hooked; // OnInnerCompleted is registered on the inner task
    private bool _inGroup; // spawned by a TaskGroup, which is then its parent until it finishes
    private volatile bool _abandoned; // given up at the end of a run (see EventLoop.AbandonStuckTasks): nothing of it runs again
    private YieldState _yield;
    private short _yieldVersion;
    private JoinContinuation? _joins;

    private enum YieldState : byte { Idle, Waiting, Resumed }

    /// <summary>What the task is suspended on, when the loop knows.</summary>
    internal ITaskWait? CurrentWait;

    /// <summary>The task's synchronization context: how the loop knows the task is running (and where the loop is).</summary>
    internal readonly LoopSynchronizationContext Context;

    /// <summary>Rarely used state, kept out of line so that a plain task stays small.</summary>
    private sealed class Extras : ScopeExtras
    {
        public string? Name;
        public Exception? Exception;
        public object? TaskSource; // TaskCompletionSource or TaskCompletionSource<T>, made on demand
        public UnobservedFault.Watch? UnobservedFault;
        public TaskStats? Stats; // while the loop's diagnostics are on
        public ExecutionContext? Flowed; // the spawner's execution context, until the task starts (see the constructor)
    }

    /// <summary>A task awaiting this one, and the task it belongs to (so it resumes in its own context).</summary>
    private sealed class JoinContinuation(Action continuation, LoopTask? owner)
    {
        public readonly Action Continuation = continuation;
        public readonly LoopTask? Owner = owner;
        public JoinContinuation? Next;
    }

    internal LoopTask(EventLoop loop, CancelScope parent, Delegate work, string? name) : base(parent)
    {
        Context = new LoopSynchronizationContext(loop, this);
        // The spawner's ExecutionContext goes with the work, as Task.Run does; only when it differs from the one the loop
        // runs everything under anyway, so that spawning costs nothing more when nothing flows.
        // A context to flow waits in the extras' slot (an unnamed task has nothing there yet; a named one shares a pair
        // of its name and the context with the tasks spawned before it): a host's AsyncLocal on a simulated network
        // flows into every task, and an object per spawn holding work and context would cost 48 bytes more per task.
        _workOrInner = work;
        if (loop.ContextToFlow() is { } context) _extras = name is null ? context : NamedContext.For(loop, name, context);
        else if (name is not null) _extras = name; // most tasks have none: no GC write barrier for them
        Id = loop.NextTaskId();
    }

    /// <inheritdoc />
    public sealed override EventLoop Loop => Context.Loop; // sealed: calls on a task need no virtual dispatch

    private protected override ScopeExtras CreateExtras() => _extras is NamedContext named
        ? new Extras { Name = named.Name, Flowed = named.Context }
        : new Extras { Name = _extras as string, Flowed = _extras as ExecutionContext };

    private Extras? TaskExtras => (Extras?)ExtrasIfAny;

    private Extras ExtrasOrNew => (Extras)ScopeExtrasOrNew;

    /// <summary>The Task the async method returned; only while <see cref="Status"/> is Running.</summary>
    private Task Inner => Unsafe.As<Task>(_workOrInner!); // Running means Start stored the Task there

    /// <summary>The task's id, unique within its loop.</summary>
    public int Id { get; }

    /// <summary>The name given at spawn, if any.</summary>
    public string? Name => _extras as string ?? (_extras as NamedContext)?.Name ?? TaskExtras?.Name;

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
            return TaskExtras?.Exception;
        }
    }

    /// <summary>What the task is waiting for right now, when the loop knows it.</summary>
    public WaitReason WaitingOn => CurrentWait?.Reason ?? WaitReason.None;

    /// <summary>What the loop measured of the task, while its diagnostics are on.</summary>
    internal TaskStats? Stats => (_extras as Extras)?.Stats;

    /// <summary>Gives the task its <see cref="Stats"/> (at spawn, when the loop's diagnostics are on).</summary>
    internal TaskStats AttachStats() => ExtrasOrNew.Stats ??= new TaskStats();

    /// <summary>The task's code, to name its method: the work delegate until it starts, then its async method's box (the Task it returned).</summary>
    internal object? DiagnosticCode => _workOrInner;

    /// <summary>The group the task was spawned in, which waits for it.</summary>
    /// <remarks>
    /// A flag and the parent link rather than a field: a group's task keeps the group as its parent until it finishes
    /// (only children of a finished task change parent, and a group finishes after its tasks), and a task per
    /// connection in a server's group should not need an extras object for it.
    /// </remarks>
    internal TaskGroup? Group
    {
        get => _inGroup ? Parent as TaskGroup : null;
        set
        {
            System.Diagnostics.Debug.Assert(value is null || ReferenceEquals(Parent, value), "a group's task is spawned as the group's child");
            _inGroup = value is not null;
        }
    }

    /// <summary>The task whose code is running on the current thread's loop, if any.</summary>
    public static LoopTask? Current =>
        SynchronizationContext.Current is LoopSynchronizationContext context && context.Loop.IsLoopThread ? context.Task : null;

    /// <summary>
    /// The running task's cancellation token, to pass to APIs the loop does not run (a <c>Channel</c>, a database
    /// driver): it is cancelled when the task is, which happens when any scope around it is cancelled (a
    /// <see cref="EventLoop.WithTimeout(TimeSpan, Func{CancellationToken, Task})"/> deadline, a failing
    /// <see cref="TaskGroup"/>, <see cref="EventLoop.Stop"/>). In a loop callback outside any task it is the loop's own,
    /// cancelled by <see cref="EventLoop.Stop"/>; off the loop it is <see cref="CancellationToken.None"/>.
    /// </summary>
    public static CancellationToken CurrentToken =>
        SynchronizationContext.Current is LoopSynchronizationContext context && context.Loop.IsLoopThread
            ? ((CancelScope?)context.Task ?? context.Loop.RootScope).Token
            : CancellationToken.None;

    /// <summary>Whether the loop gave the task up at the end of a run: cancelled, it stayed stuck past the grace period.</summary>
    internal bool IsAbandoned => _abandoned;

    internal static LoopTask? CurrentOn(EventLoop loop) =>
        SynchronizationContext.Current is LoopSynchronizationContext context && ReferenceEquals(context.Loop, loop) ? context.Task : null;

    /// <summary>Gets an awaiter; the continuation runs on the loop.</summary>
    public LoopTaskAwaiter GetAwaiter() => new(this);

    /// <summary>A <see cref="Task"/> that completes like this task (made once, on first use).</summary>
    public Task AsTask()
    {
        MarkObserved();
        var extras = ExtrasOrNew;
        if (extras.TaskSource is null)
        {
            extras.TaskSource = CreateTaskSource();
            if (IsCompleted) CompleteTaskSource(extras.TaskSource);
        }
        return TaskOf(extras.TaskSource);
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

    /// <summary>
    /// The task's first run, from the ready queue (<see cref="EventLoop"/>'s RunTurns), which has installed the
    /// task's context already and leaves it for the next item to replace: no save and restore here.
    /// </summary>
    internal void Start()
    {
        System.Diagnostics.Debug.Assert(ReferenceEquals(SynchronizationContext.Current, Context), "the loop installs the task's context before its first run");
        if (_status != LoopTaskStatus.Scheduled) return;
        var flowed = TakeFlowedContext();
        if (IsCancellationRequested)
        {
            _workOrInner = null;
            Finish(LoopTaskStatus.Canceled, new OperationCanceledException(Token));
            return;
        }
        _status = LoopTaskStatus.Running;
        Loop.Recorder.Record(LoopEventKind.TaskStarted, this);

        Task inner;
        try
        {
            inner = (flowed is null ? Invoke(TakeWork()) : InvokeIn(flowed)) ?? throw new InvalidOperationException($"The work of task #{Id} returned a null Task.");
            if (!inner.IsCompleted)
            {
                _workOrInner = inner;
                AfterTurn();
                return;
            }
        }
        catch (Exception e)
        {
            inner = Task.FromException(e);
        }
        CompleteFrom(inner);
    }

    /// <summary>The work delegate (a Func&lt;Task&gt; or Func&lt;CancellationToken, Task&gt;), taken out of its field.</summary>
    private object? TakeWork()
    {
        var work = _workOrInner;
        _workOrInner = null;
        return work;
    }

    /// <summary>Calls the task's work: a <c>Func&lt;Task&gt;</c> or <c>Func&lt;CancellationToken, Task&gt;</c> (Spawn takes nothing else).</summary>
    internal Task Invoke(object? work) => work switch
    {
        Func<Task> f => f(),
        Func<CancellationToken, Task> f => f(Token),
        _ => throw new InvalidOperationException("Unsupported work delegate."),
    };

    /// <summary>
    /// Whether <see cref="AfterTurn"/> has nothing to do after a turn in which the task noted a loop await (the loop
    /// checks that first): its method is suspended on it, and the loop already knows what it waits for. Cheap enough to
    /// check inline after every turn.
    /// </summary>
    internal bool IsSuspendedOnLoopAwait
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // every switch: a call was most of its cost
        get =>
            _status == LoopTaskStatus.Running && !ReferenceEquals(CurrentWait, ForeignAwait.Instance) && !Inner.IsCompleted;
    }

    /// <summary>
    /// The loop calls this after it ran a piece of this task's work, under the task's context. The task's async method
    /// can only finish in such a piece (its awaits resume under its context, and the runtime runs a continuation inline
    /// only under the same context), so checking here replaces a continuation object on every task. The exception is an
    /// await that the loop will not resume (a Task awaited with ConfigureAwait(false), a foreign awaitable): then the
    /// method may finish on another thread, and the task registers the runtime continuation after all. What tells them
    /// apart is whether the last await registered in the turn was a loop await of this task; a turn that starts a loop
    /// wait it does not await yet and then suspends on a ConfigureAwait(false) Task would be taken for the former, and
    /// its task would be seen finished only when that loop wait ends (or is cancelled, as at the end of the run).
    /// </summary>
    internal void AfterTurn()
    {
        if (_status != LoopTaskStatus.Running) return;
        var inner = Inner;
        if (inner.IsCompleted) CompleteFrom(inner);
        else if (Loop.ResumesThroughLoop(this))
        {
            if (ReferenceEquals(CurrentWait, ForeignAwait.Instance)) CurrentWait = null; // a loop wait tracks itself
        }
        else
        {
            // Suspended on something the loop does not run: say so, unless a loop operation that completes a Task
            // (a worker, a task group) already named its wait.
            CurrentWait ??= ForeignAwait.Instance;
            if (_hooked) return;
            _hooked = true;
            // Registered under the task's context (current here): run inline if the method finishes under it,
            // posted to it otherwise. A context-free continuation would go to the thread pool.
            inner.GetAwaiter().UnsafeOnCompleted(OnInnerCompleted);
        }
    }

    /// <summary>
    /// Gives the task up at the end of a run: it was cancelled and stayed stuck past the grace period (on a wait the loop
    /// cannot end). It finishes as cancelled with <paramref name="reason"/>; continuations that reach it later are
    /// dropped (see <see cref="LoopSynchronizationContext.Post"/>).
    /// </summary>
    internal void Abandon(AbandonedTaskException reason)
    {
        _abandoned = true;
        _observed = true; // the loop reports it itself
        Finish(LoopTaskStatus.Canceled, reason);
    }

    private void CompleteFrom(Task inner)
    {
        _workOrInner = null;
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
        if (exception is not null) ExtrasOrNew.Exception = exception;
        CurrentWait = null;
        Loop.Recorder.Record(status switch
        {
            LoopTaskStatus.RanToCompletion => LoopEventKind.TaskCompleted,
            LoopTaskStatus.Faulted => LoopEventKind.TaskFaulted,
            _ => LoopEventKind.TaskCanceled,
        }, this);

        // Children outlive a plain task (only groups wait for theirs): they move up to our parent so the
        // tree stays whole for cancellation and introspection.
        var group = Group; // before leaving the tree, which clears the parent link
        LeaveTree();
        Loop.OnTaskFinished(this);

        group?.OnTaskFinished(this);
        if (status == LoopTaskStatus.Faulted && !_observed)
            ExtrasOrNew.UnobservedFault = Loop.TrackUnobserved(this, exception!);

        if (TaskExtras?.TaskSource is { } source) CompleteTaskSource(source);
        RunContinuations();
    }

    private void CompleteTaskSource(object source)
    {
        switch (_status)
        {
            case LoopTaskStatus.RanToCompletion: SetTaskSourceResult(source); break;
            case LoopTaskStatus.Canceled:
                var token = (TaskExtras?.Exception as OperationCanceledException)?.CancellationToken ?? default;
                SetCanceled(source, token);
                break;
            default: SetFailed(source, TaskExtras!.Exception!); break;
        }
    }

    private protected virtual void SetCanceled(object source, CancellationToken token) => ((TaskCompletionSource)source).TrySetCanceled(token);

    private protected virtual void SetFailed(object source, Exception error) => ((TaskCompletionSource)source).TrySetException(error);

    private void RunContinuations()
    {
        var joins = _joins;
        _joins = null;
        // The list was built newest first; resume the awaiting tasks in the order they started waiting.
        JoinContinuation? ordered = null;
        while (joins is not null)
        {
            var next = joins.Next;
            joins.Next = ordered;
            ordered = joins;
            joins = next;
        }
        for (; ordered is not null; ordered = ordered.Next)
            Loop.EnqueueReady(new ReadyItem(ordered.Continuation, ordered.Owner));
    }

    internal void AddContinuation(Action continuation, bool flowExecutionContext)
    {
        if (flowExecutionContext && ExecutionContext.Capture() is { } context)
            continuation = FlowedContinuation.Wrap(context, continuation);
        if (!Loop.IsLoopThread)
        {
            // Awaited from outside the loop: hop to the loop to register, and finish there.
            Loop.PostFromAnyThread(new ReadyItem(static (object? s) => { var (t, c) = ((LoopTask, Action))s!; t.AddContinuation(c, false); }, (this, continuation)));
            return;
        }
        var waiter = CurrentOn(Loop);
        Loop.NoteLoopAwait(waiter);
        if (IsCompleted)
        {
            Loop.EnqueueReady(new ReadyItem(continuation, waiter));
            return;
        }
        if (waiter is not null && waiter != this) waiter.CurrentWait = this;
        _joins = new JoinContinuation(continuation, waiter) { Next = _joins };
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
        if (TaskExtras?.UnobservedFault is { } fault)
        {
            fault.MarkObserved();
            TaskExtras!.UnobservedFault = null;
        }
    }

    internal void ThrowIfFailed()
    {
        switch (_status)
        {
            case LoopTaskStatus.RanToCompletion: return;
            case LoopTaskStatus.Faulted:
            case LoopTaskStatus.Canceled:
                ExceptionDispatchInfo.Throw(TaskExtras!.Exception!);
                return;
            default:
                throw new InvalidOperationException($"Task #{Id} has not finished; await it instead of reading its result.");
        }
    }
}
