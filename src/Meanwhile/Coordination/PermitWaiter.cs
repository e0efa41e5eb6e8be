using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>
/// A task waiting for a permit of a <see cref="PermitQueue"/> (a lock, a semaphore): a node of the queue's first-come
/// first-served list and the source its task awaits (through <see cref="PermitAwaitable"/>, or as a
/// <see cref="ValueTask"/>'s source once converted). It does what a <see cref="Waiter"/> does (introspection,
/// cancellation by its task, a scope or a token, a granted permit given back by a task cancelled before it resumed),
/// with only what a permit needs: no result, no kinds of continuation to tell apart (a granted wait queues its
/// continuation as a yield does), and few GC write barriers, as a hand-off is mostly this node's bookkeeping.
/// </summary>
/// <remarks>
/// The queue keeps its nodes for good (up to <see cref="PermitQueue"/>'s limit) and marks them free, so renting and
/// recycling one stores no reference. A free node remembers its last owner, and the async method it last resumed (the
/// runtime's delegate to its box), until its next wait: stores skipped when a task waits again on the same queue from
/// the same method, as one handing a lock back and forth does. That keeps one finished task and one method's box alive
/// per kept node at most, until the queue is collected or the node serves another wait; a finished method's box holds
/// none of its locals (the runtime clears them when the method ends).
/// </remarks>
internal sealed class PermitWaiter : IValueTaskSource, ITaskWait
{
    private enum WaitStatus : byte { Free, Pending, Granted, Canceled }

    private readonly PermitQueue _queue;
    private readonly EventLoop _loop;
    internal readonly PermitWaiter? NextKept; // the queue's kept nodes, linked once when made
    internal PermitWaiter? Next;               // in the queue's list of waiters
    internal PermitWaiter? Previous;
    internal LoopTask? Owner;
    private Action<object?>? _continuation;    // kept between waits: usually the same static delegate (see RunContinuation)
    private object? _state;
    private Action? _action;                   // the continuation instead, when awaited through PermitAwaitable; kept between waits
    private bool _resumesAction;
    private TokenState? _token;
    private Exception? _error;                 // why the wait was cancelled, until its task takes it
    private short _version;
    private WaitStatus _status;
    private bool _awaited;                     // a continuation is registered and not queued yet
    internal bool Shielded;                    // its task's cancellation does not end it (a condition taking its lock back)

    /// <summary>A token passed to the wait: only waits given one need this.</summary>
    private sealed class TokenState
    {
        public CancellationToken Token;
        public CancellationTokenRegistration Registration;
    }

    internal PermitWaiter(PermitQueue queue, PermitWaiter? nextKept)
    {
        _queue = queue;
        _loop = queue.Loop;
        NextKept = nextKept;
    }

    public WaitReason Reason => _queue.Reason;

    internal bool IsFree => _status == WaitStatus.Free;

    /// <summary>Whether the wait ended and its task has not resumed yet: for diagnostics, the task is then ready to run.</summary>
    internal bool HasEnded => _status is WaitStatus.Granted or WaitStatus.Canceled;

    /// <summary>Starts a wait for <paramref name="owner"/>; false if it ended at once (the task or token was cancelled already).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Start(CancellationToken token, LoopTask? owner)
    {
        _version++;
        _status = WaitStatus.Pending;
        Shielded = false;
        if (!ReferenceEquals(Owner, owner)) Owner = owner; // the same task waiting again: no GC write barrier
        if (token.CanBeCanceled || owner is null || owner.IsCancellationRequested || _loop.Recorder.IsEnabled) return StartChecked(token, owner);
        owner.CurrentWait = this;
        return true;
    }

    /// <summary>The rest of <see cref="Start"/>, for a wait given a token, outside a task, cancelled already or recorded.</summary>
    private bool StartChecked(CancellationToken token, LoopTask? owner)
    {
        if (token.CanBeCanceled) return StartWithToken(token, owner);
        if (owner is not null)
        {
            if (owner.IsCancellationRequested)
            {
                EndCanceled(new OperationCanceledException(owner.Token));
                return false;
            }
            owner.CurrentWait = this;
        }
        if (_loop.Recorder.IsEnabled) _loop.Recorder.Record(LoopEventKind.WaitStarted, owner, Reason);
        return true;
    }

    private bool StartWithToken(CancellationToken token, LoopTask? owner)
    {
        var state = _token ??= new TokenState();
        state.Token = token;
        if (token.IsCancellationRequested)
        {
            EndCanceled(new OperationCanceledException(token));
            return false;
        }
        if (owner is not null)
        {
            if (owner.IsCancellationRequested)
            {
                EndCanceled(new OperationCanceledException(owner.Token));
                return false;
            }
            owner.CurrentWait = this;
        }
        state.Registration = token.UnsafeRegister(static s => ((PermitWaiter)s!).OnTokenCanceled(), this);
        if (_loop.Recorder.IsEnabled) _loop.Recorder.Record(LoopEventKind.WaitStarted, owner, Reason);
        return true;
    }

    /// <summary>
    /// Starts a wait that the task's cancellation does not end (it still shows as the task's wait): what a condition
    /// does to take its lock back, which it must hold again even when it leaves with an exception.
    /// </summary>
    internal void StartShielded(LoopTask? owner)
    {
        Start(default, null);
        Shielded = true;
        Owner = owner;
        if (owner is not null) owner.CurrentWait = this;
    }

    internal PermitAwaitable AsAwaitable() => new(this, _version);

    /// <summary>Whether the wait of <paramref name="token"/> ended (<see cref="GetStatus"/> is not pending).</summary>
    internal bool IsEnded(short token)
    {
        if (token != _version) ThrowAwaitedTwice();
        return _status != WaitStatus.Pending;
    }

    /// <summary>Whether the wait of <paramref name="token"/> ended with the permit.</summary>
    internal bool IsGranted(short token)
    {
        if (token != _version) ThrowAwaitedTwice();
        return _status == WaitStatus.Granted;
    }

    /// <summary>The permit is this waiter's: its task resumes from the ready queue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Grant()
    {
        _status = WaitStatus.Granted;
        if (_token is { Token.CanBeCanceled: true }) ForgetToken(); // only a wait given a token registered one
        if (_awaited) Resume();
    }

    public void CancelFromOwner(LoopTask owner)
    {
        if (Shielded) return;
        if (_status == WaitStatus.Pending)
        {
            _queue.Unlink(this);
            if (_token is { Token.CanBeCanceled: true }) ForgetToken();
            EndCanceled(new OperationCanceledException(owner.Token));
        }
        else if (_status == WaitStatus.Granted)
        {
            // Passed the permit but not resumed yet: it goes to the next waiter, or back to the queue, and the task,
            // whose continuation may be queued already, sees the cancellation instead.
            _status = WaitStatus.Canceled;
            _error = new OperationCanceledException(owner.Token);
            _queue.Release(1);
        }
    }

    private void OnTokenCanceled() => _loop.RunOnLoop(static s => ((PermitWaiter)s!).CancelIfTokenFired(), this);

    private void CancelIfTokenFired()
    {
        // The wait may have ended, or been reused for another token, since the token fired.
        if (_status != WaitStatus.Pending || _token is not { Token.IsCancellationRequested: true } state) return;
        _queue.Unlink(this);
        ForgetToken();
        EndCanceled(new OperationCanceledException(state.Token));
    }

    private void ForgetToken()
    {
        _token!.Registration.Dispose();
        _token.Registration = default;
        _token.Token = default;
    }

    private void EndCanceled(Exception error)
    {
        _status = WaitStatus.Canceled;
        _error = error;
        if (_awaited) Resume();
    }

    /// <summary>
    /// Queues the node itself to run the registered continuation (<see cref="RunContinuation"/>): one reference in the
    /// ready queue rather than the state and the task. Nothing changes the continuation until it ran: the node is not
    /// free again before its task took the result, in that continuation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Resume()
    {
        _awaited = false;
        _loop.EnqueueReady(new ReadyItem(this));
    }

    /// <summary>
    /// Runs the continuation queued by <see cref="Resume"/>, from the ready queue. It is kept for the next wait, where it
    /// is most likely the same one: the runtime's awaits pass static delegates (what they resume is the state), and a
    /// flowed context goes in the state.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void RunContinuation()
    {
        if (_resumesAction)
        {
            _action!(); // kept for the next wait (see the remarks)
            return;
        }
        var state = _state;
        _state = null;
        _continuation!(state);
    }

    /// <summary>What the queued continuation resumes (an async method's box), for the loop monitor to name it.</summary>
    internal object? StateToResume => _resumesAction ? _action?.Target : _state;

    public ValueTaskSourceStatus GetStatus(short token)
    {
        if (token != _version) ThrowAwaitedTwice();
        return _status == WaitStatus.Pending ? ValueTaskSourceStatus.Pending
            : _status == WaitStatus.Granted ? ValueTaskSourceStatus.Succeeded
            : ValueTaskSourceStatus.Canceled;
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        if (token != _version || _awaited) ThrowAwaitedTwice();
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 && ExecutionContext.Capture() is { } context)
        {
            state = FlowedContinuation.Wrap(context, continuation, state);
            continuation = RunFlowed;
        }
        if (!ReferenceEquals(_continuation, continuation)) _continuation = continuation; // usually the same: no GC write barrier
        _state = state;
        _resumesAction = false;
        Suspend();
    }

    /// <summary>
    /// <see cref="PermitAwaitable"/>'s await: the continuation is an <see cref="Action"/> (an async method's, the
    /// runtime's delegate to its box), called directly when the wait ends.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void OnCompleted(Action continuation, short token, bool flowExecutionContext)
    {
        if (token != _version || _awaited) ThrowAwaitedTwice();
        if (flowExecutionContext) continuation = InContext(continuation);
        if (!ReferenceEquals(_action, continuation)) _action = continuation; // the same method waiting again: no GC write barrier
        _resumesAction = true;
        Suspend();
    }

    /// <summary><paramref name="continuation"/> run in the caller's execution context, if it has one to flow.</summary>
    private static Action InContext(Action continuation) =>
        ExecutionContext.Capture() is { } context ? FlowedContinuation.Wrap(context, continuation) : continuation;

    /// <summary>The rest of an await, once the continuation is stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Suspend()
    {
        _awaited = true;
        // As a yield does, noted without reading the current context (a thread-local read): the wait resumes in its task,
        // and the note matters only in a turn of that task (the acquire checked it runs on the loop's thread). The
        // scheduling context is ignored on purpose: a permit's waiter always resumes on the loop, in its task.
        if (Owner is { } owner) _loop.NoteOwnLoopAwait(owner);
        if (_status != WaitStatus.Pending) ResumeAwaited(); // ended before it was awaited: out of line, so the usual path saves no registers for it
    }

    private static readonly Action<object?> RunFlowed = static flowed => ((Action<object?>)flowed!)(null);

    /// <summary>Ends the await: returns if the permit is the task's, throws why the wait was cancelled otherwise.</summary>
    public void GetResult(short token)
    {
        if (token != _version || _status != WaitStatus.Granted)
        {
            EndNotGranted(token);
            return;
        }
        var owner = Owner;
        if (owner is not null && ReferenceEquals(owner.CurrentWait, this)) owner.CurrentWait = null;
        if (_loop.Recorder.IsEnabled) RecordEnd(owner);
        _status = WaitStatus.Free;
    }

    /// <summary>GetResult of a wait that was cancelled (throws its error), or of one not finished or taken already.</summary>
    private void EndNotGranted(short token)
    {
        if (token != _version || _status is WaitStatus.Pending or WaitStatus.Free)
            throw new InvalidOperationException(_status == WaitStatus.Pending ? "The wait has not completed yet." : "This loop wait was already awaited.");
        var owner = Owner;
        if (owner is not null && ReferenceEquals(owner.CurrentWait, this)) owner.CurrentWait = null;
        if (_loop.Recorder.IsEnabled) RecordEnd(owner);
        var error = _error!;
        _error = null;
        _status = WaitStatus.Free;
        ExceptionDispatchInfo.Throw(error);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ResumeAwaited() => Resume();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RecordEnd(LoopTask? owner) => _loop.Recorder.Record(LoopEventKind.WaitEnded, owner, Reason);

    [DoesNotReturn]
    private static void ThrowAwaitedTwice() =>
        throw new InvalidOperationException("This wait was already awaited; a lock's or semaphore's wait can be awaited once.");
}
