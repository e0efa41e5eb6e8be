using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>
/// Base of every wait the loop itself completes (a timer, a descriptor becoming readable or writable):
/// an <see cref="IValueTaskSource"/> whose continuation always runs from the loop's ready queue, so
/// awaiting it allocates nothing and resumes on the loop thread whatever <c>ConfigureAwait</c> says.
/// </summary>
/// <remarks>
/// A wait belongs to the task that started it (its owner): the owner's introspection shows it, and
/// cancelling the owner ends the wait. Only the loop thread touches the state; a token cancelled on
/// another thread is marshalled through <see cref="EventLoop.Post(Action)"/>.
/// </remarks>
internal abstract class LoopWait : IValueTaskSource, IValueTaskSource<int>, IValueTaskSource<bool>, ILoopWorkItem, ITaskWait
{
    private enum WaitStatus : byte { Idle, Pending, Succeeded, Canceled, Faulted }

    /// <summary>
    /// Which continuation is registered: none, <see cref="AsyncMethodContinuation"/>, <see cref="ActionContinuation"/>
    /// (its state is the <see cref="Action"/> to run), <see cref="ResumableContinuation"/> (its state is a pooled box),
    /// or one in the side object.
    /// </summary>
    private enum ContinuationKind : byte { None, AsyncMethod, Action, Resumable, Other }

    /// <summary>
    /// The delegate the runtime passes to every await of a <see cref="ValueTask"/> in an async method (one static
    /// delegate; the method's box is the state). Known here, it needs no field in each wait: 8 bytes less per pending
    /// wait. Any other continuation (<c>AsTask</c>, a hand-written awaiter) goes to the side object.
    /// </summary>
    /// <remarks>Also read by waits that keep their own continuations. Null if the probe did not find it.</remarks>
    internal static readonly Action<object?>? AsyncMethodContinuation = ContinuationProbe.FindAsyncMethodContinuation();

    /// <summary>
    /// The delegate a <see cref="ValueTask"/>'s awaiter passes for an <see cref="Action"/> continuation (the state is the
    /// Action): what the loop's pooling builders and hand-written awaiters register. Known here, such an await needs no
    /// side object either; the ready queue runs the Action itself. Null if the probe did not find it.
    /// </summary>
    private static readonly Action<object?>? ActionContinuation = ContinuationProbe.FindActionContinuation();

    /// <summary>
    /// Resumes an <see cref="IResumable"/> given as the state: what a pooled async method's box registers on a loop wait
    /// (rather than an Action of its own per box), known here like the two above.
    /// </summary>
    internal static readonly Action<object?> ResumableContinuation = static resumable => ((IResumable)resumable!).Resume();

    protected readonly EventLoop Loop;
    private object? _continuationState;
    private Rare? _rare;
    private ContinuationKind _continuationKind;
    private WaitStatus _status;
    private short _version;
    private bool _queued;
    private bool _externalCounted;
    private bool _quietCancel; // a cancellation ends the wait with false rather than an exception (see BeginQuiet)
    internal LoopTask? Owner;

    /// <summary>
    /// What only some waits need — a token, an error, a flowed execution context — kept out of line: a million
    /// pending delays should not each carry 40 bytes they never use.
    /// </summary>
    private sealed class Rare
    {
        public Action<object?>? Continuation; // when not the async-method one
        public ExecutionContext? ExecutionContext;
        public Exception? Error;
        public CancellationToken Token;
        public CancellationTokenRegistration Registration;
    }

    private Rare RareState => _rare ??= new Rare();

    protected LoopWait(EventLoop loop) => Loop = loop;

    /// <summary>What this wait is for, as introspection shows it.</summary>
    public abstract WaitReason Reason { get; }

    /// <summary>Whether the loop must not jump virtual time while this wait is pending (it waits on the outside world).</summary>
    protected virtual bool IsExternal => false;

    public bool IsPending => _status == WaitStatus.Pending;

    /// <summary>Whether the wait ended and its task has not resumed yet: for diagnostics, the task is then ready to run.</summary>
    internal bool HasEnded => _status is WaitStatus.Succeeded or WaitStatus.Canceled or WaitStatus.Faulted;

    /// <summary>Whether the wait succeeded and its task has not taken the result yet (its continuation may be queued).</summary>
    protected bool IsGranted => _status == WaitStatus.Succeeded;

    /// <summary>The token of the <see cref="ValueTask"/> that stands for the current wait.</summary>
    protected short Version => _version;

    /// <summary>Starts a new wait; returns false (and the wait is already cancelled) if the owner or token is cancelled.</summary>
    protected bool Begin(CancellationToken token) => Begin(token, LoopTask.CurrentOn(Loop));

    /// <summary>
    /// <see cref="Begin(CancellationToken)"/> for a wait taken as <see cref="AsSuccessResult"/>, whose cancellation is not
    /// an error to its caller: it ends with false, and no exception is made or thrown. A server stopping ends every idle
    /// connection's wait at once, and a throw each would cost more than the rest of the shutdown.
    /// </summary>
    protected bool BeginQuiet(CancellationToken token) => Begin(token, LoopTask.CurrentOn(Loop), quietCancel: true);

    /// <summary><see cref="Begin(CancellationToken)"/> for a caller that knows the running task, <paramref name="owner"/>.</summary>
    protected bool Begin(CancellationToken token, LoopTask? owner) => Begin(token, owner, quietCancel: false);

    private bool Begin(CancellationToken token, LoopTask? owner, bool quietCancel)
    {
        _version++;
        _quietCancel = quietCancel;
        _status = WaitStatus.Pending;
        _queued = false;
        _continuationKind = ContinuationKind.None;
        _continuationState = null;
        if (_rare is not null)
        {
            _rare.Continuation = null;
            _rare.Error = null;
            _rare.ExecutionContext = null;
            _rare.Token = default;
        }
        if (token.CanBeCanceled) RareState.Token = token;
        Owner = owner;
        if (token.IsCancellationRequested)
        {
            CompleteCanceled(token);
            return false;
        }
        if (owner is not null)
        {
            if (owner.IsCancellationRequested)
            {
                CompleteCanceled(TokenForError(owner));
                return false;
            }
            owner.CurrentWait = this;
        }
        if (token.CanBeCanceled)
            _rare!.Registration = token.UnsafeRegister(static s => ((LoopWait)s!).OnTokenCanceled(), this);
        if (IsExternal) { _externalCounted = true; Loop.ExternalWaits++; }
        if (Loop.Recorder.IsEnabled) Loop.Recorder.Record(LoopEventKind.WaitStarted, owner, Reason); // Reason is a virtual call
        return true;
    }

    protected ValueTask AsValueTask() => new(this, _version);

    /// <summary>The wait as a read result of 0 (a zero-byte read that waited for data), without another object.</summary>
    protected ValueTask<int> AsZeroResult() => new(this, _version);

    /// <summary>The wait as true once it succeeds, false if a wait begun by <see cref="BeginQuiet"/> is cancelled.</summary>
    protected ValueTask<bool> AsSuccessResult() => new(this, _version);

    int IValueTaskSource<int>.GetResult(short token)
    {
        TakeResult(token);
        return 0;
    }

    bool IValueTaskSource<bool>.GetResult(short token) => TakeResult(token);

    private void OnTokenCanceled() => Loop.RunOnLoop(static s => ((LoopWait)s!).CancelIfTokenFired(), this);

    private void CancelIfTokenFired()
    {
        // The wait may have ended, or been reused for another token, since the token fired.
        if (_status == WaitStatus.Pending && _rare is { Token.IsCancellationRequested: true })
            Cancel(_rare.Token);
    }

    /// <summary>Ends the wait as cancelled because its owner was cancelled.</summary>
    public virtual void CancelFromOwner(LoopTask owner)
    {
        if (_status == WaitStatus.Pending) Cancel(TokenForError(owner));
    }

    // The owner's token goes only into the exception a cancelled wait throws: a quiet wait makes none, and reading the
    // token would make the task a cancellation source of its own (ten thousand idle connections of a stopping server).
    private CancellationToken TokenForError(LoopTask owner) => _quietCancel ? default : owner.Token;

    private void Cancel(CancellationToken token)
    {
        OnCanceling();
        CompleteCanceled(token);
    }

    /// <summary>Lets a subclass undo its registration (leave the timer heap, drop the I/O waiter).</summary>
    protected virtual void OnCanceling() { }

    private void CompleteCanceled(CancellationToken token)
    {
        if (!_quietCancel) RareState.Error = new OperationCanceledException(token);
        Finish(WaitStatus.Canceled);
    }

    protected void CompleteSuccess() => Finish(WaitStatus.Succeeded);

    /// <summary>
    /// Takes back a wait that succeeded but whose task has not resumed yet: the task now ends the wait with
    /// <see cref="OperationCanceledException"/>. Its continuation, if already queued, runs as it would have; only the
    /// result changes. The caller has given back what the wait had been granted (an item, a permit).
    /// </summary>
    protected void RevokeGrant(CancellationToken token)
    {
        System.Diagnostics.Debug.Assert(_status == WaitStatus.Succeeded, "only a granted wait can be revoked");
        RareState.Error = new OperationCanceledException(token);
        _status = WaitStatus.Canceled;
    }

    protected void CompleteError(Exception error)
    {
        RareState.Error = error;
        Finish(WaitStatus.Faulted);
    }

    private void Finish(WaitStatus status)
    {
        if (_status != WaitStatus.Pending) return;
        _status = status;
        if (_rare is not null)
        {
            _rare.Registration.Dispose();
            _rare.Registration = default;
        }
        if (_externalCounted) { _externalCounted = false; Loop.ExternalWaits--; }
        if (_continuationKind != ContinuationKind.None) Schedule();
    }

    private void Schedule()
    {
        if (_queued) return;
        _queued = true;
        if (_continuationKind == ContinuationKind.Action && _rare?.ExecutionContext is null)
        {
            // An Action awaiting (a pooled box's MoveNext): the ready queue runs it directly, as below.
            var action = (Action)_continuationState!;
            _continuationKind = ContinuationKind.None;
            _continuationState = null;
            Loop.EnqueueReady(new ReadyItem(action, Owner));
            return;
        }
        if (_continuationKind == ContinuationKind.Resumable && _rare?.ExecutionContext is null)
        {
            // A pooled box: as an Action above, with the box as the state.
            var resumable = _continuationState;
            _continuationKind = ContinuationKind.None;
            _continuationState = null;
            Loop.EnqueueReady(new ReadyItem(ResumableContinuation, resumable, Owner));
            return;
        }
        if (_continuationKind == ContinuationKind.AsyncMethod && _rare?.ExecutionContext is null)
        {
            // The usual await of an async method: the ready queue runs the runtime's continuation itself, with its box,
            // rather than this wait's Execute, which would only forward to it. The wait forgets it now, as Execute would.
            var box = _continuationState;
            _continuationKind = ContinuationKind.None;
            _continuationState = null;
            Loop.EnqueueReady(ReadyItem.ForAsyncMethod(box, Owner));
            return;
        }
        Loop.EnqueueReady(new ReadyItem(this, Owner));
    }

    /// <summary>What resuming the wait runs (an async method's box, or another continuation), for diagnostics: read before it runs.</summary>
    internal virtual object? CodeToResume => _continuationKind switch
    {
        ContinuationKind.AsyncMethod or ContinuationKind.Resumable => _continuationState,
        ContinuationKind.Action => ((Action)_continuationState!).Target,
        _ => _rare?.Continuation,
    };

    /// <summary>Runs the continuation: the loop calls this from its ready queue.</summary>
    public virtual void Execute()
    {
        _queued = false;
        var kind = _continuationKind;
        if (kind == ContinuationKind.None) return;
        var continuation = kind switch
        {
            ContinuationKind.AsyncMethod => AsyncMethodContinuation!,
            ContinuationKind.Action => ActionContinuation!,
            ContinuationKind.Resumable => ResumableContinuation,
            _ => _rare!.Continuation!,
        };
        var state = _continuationState;
        var context = _rare?.ExecutionContext;
        _continuationKind = ContinuationKind.None;
        _continuationState = null;
        if (kind == ContinuationKind.Other) _rare!.Continuation = null;
        if (context is not null) _rare!.ExecutionContext = null;
        if (context is null) continuation(state);
        else ExecutionContext.Run(context, static s => { var (c, st) = ((Action<object?>, object?))s!; c(st); }, (continuation, state));
    }

    public ValueTaskSourceStatus GetStatus(short token)
    {
        ValidateToken(token);
        return _status switch
        {
            WaitStatus.Pending => ValueTaskSourceStatus.Pending,
            WaitStatus.Succeeded => ValueTaskSourceStatus.Succeeded,
            WaitStatus.Canceled => ValueTaskSourceStatus.Canceled,
            _ => ValueTaskSourceStatus.Faulted,
        };
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        ValidateToken(token);
        if (_continuationKind != ContinuationKind.None || _queued)
            throw new InvalidOperationException("A loop wait can be awaited only once.");
        // One thread-local read for both the thread check and NoteLoopAwait: one of the loop's contexts is only ever
        // current on the loop thread (see EventLoop.CheckThreadGetTask).
        var current = SynchronizationContext.Current;
        if (!(current is LoopSynchronizationContext loopContext && ReferenceEquals(loopContext.Loop, Loop)) && !Loop.IsLoopThread)
            throw new InvalidOperationException("A loop wait was awaited from a thread that is not the loop's; await it from loop code.");
        if (ReferenceEquals(continuation, AsyncMethodContinuation)) _continuationKind = ContinuationKind.AsyncMethod;
        else if (ReferenceEquals(continuation, ActionContinuation) && state is Action) _continuationKind = ContinuationKind.Action;
        else if (ReferenceEquals(continuation, ResumableContinuation) && state is IResumable) _continuationKind = ContinuationKind.Resumable;
        else
        {
            RareState.Continuation = continuation;
            _continuationKind = ContinuationKind.Other;
        }
        _continuationState = state;
        Loop.NoteLoopAwait(Owner, current);
        // The scheduling context is ignored on purpose: loop waits always resume on the loop.
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 && ExecutionContext.Capture() is { } context)
            RareState.ExecutionContext = context;
        if (_status != WaitStatus.Pending) Schedule();
    }

    public void GetResult(short token) => TakeResult(token);

    /// <summary>Ends the await: true if the wait succeeded, false if a quiet wait was cancelled; throws its error otherwise.</summary>
    private bool TakeResult(short token)
    {
        ValidateToken(token);
        var owner = Owner;
        if (owner is not null)
        {
            if (owner.CurrentWait == this) owner.CurrentWait = null;
            Owner = null;
        }
        if (Loop.Recorder.IsEnabled) Loop.Recorder.Record(LoopEventKind.WaitEnded, owner, Reason);
        switch (_status)
        {
            case WaitStatus.Succeeded: _status = WaitStatus.Idle; return true;
            case WaitStatus.Pending: throw new InvalidOperationException("The wait has not completed yet.");
            case WaitStatus.Idle: throw new InvalidOperationException("This loop wait was already awaited.");
            case WaitStatus.Canceled when _quietCancel && _rare?.Error is null: _status = WaitStatus.Idle; return false;
            default:
                var error = _rare!.Error!;
                _status = WaitStatus.Idle;
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
                return false;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ValidateToken(short token)
    {
        if (token != _version) ThrowAwaitedTwice(); // the throw in a method of its own, so that this check inlines
    }

    [DoesNotReturn]
    private static void ThrowAwaitedTwice() =>
        throw new InvalidOperationException("This ValueTask was already awaited; a loop wait can be awaited once.");

    /// <summary>Learns the runtime's continuations by awaiting a source that never completes.</summary>
    private sealed class ContinuationProbe : IValueTaskSource
    {
        private Action<object?>? _continuation;

        /// <summary>The one an async method registers (the suspended method is garbage once this returns).</summary>
        public static Action<object?>? FindAsyncMethodContinuation()
        {
            var probe = new ContinuationProbe();
            _ = AwaitForever(probe);
            return probe._continuation;

            static async Task AwaitForever(IValueTaskSource source) => await new ValueTask(source, 0);
        }

        /// <summary>The one a ValueTask's awaiter registers for an Action.</summary>
        public static Action<object?>? FindActionContinuation()
        {
            var probe = new ContinuationProbe();
            new ValueTask(probe, 0).ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(static () => { });
            return probe._continuation;
        }

        public ValueTaskSourceStatus GetStatus(short token) => ValueTaskSourceStatus.Pending;

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _continuation = continuation;

        public void GetResult(short token) { }
    }
}
