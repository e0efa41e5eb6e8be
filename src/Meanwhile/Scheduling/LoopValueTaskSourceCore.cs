using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>
/// The state of a reusable <see cref="IValueTaskSource{TResult}"/> whose continuations resume on the loop: the loop's
/// counterpart of <see cref="ManualResetValueTaskSourceCore{TResult}"/>. Embed it in a pooled object that implements
/// the interface by calling it, hand out <c>new ValueTask&lt;T&gt;(this, core.Version)</c>, complete it once, and
/// <see cref="Reset"/> it for the next operation: a warm operation allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// What sets it apart from the runtime's core is where the awaiter resumes. Awaited from a task on the loop, the
/// continuation runs inline when the completion happens in that same task's code (no trip through the ready queue,
/// as the runtime does for a <see cref="Task"/> completed under the awaiter's own context), and otherwise goes to the
/// loop's ready queue tagged with that task, without the object a post through the synchronization context costs. An
/// awaiter with no context (<c>ConfigureAwait(false)</c>, <see cref="ValueTask{TResult}.AsTask"/>) is run inline; one
/// under a foreign context or scheduler is posted there.
/// </para>
/// <para>Loop thread only: complete it there (post from other threads with <see cref="EventLoop.Post(Action)"/>).</para>
/// </remarks>
/// <typeparam name="TResult">The operation's result.</typeparam>
public struct LoopValueTaskSourceCore<TResult>
{
    private readonly EventLoop _loop;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private object? _capturedContext; // a loop context, a foreign SynchronizationContext, or a TaskScheduler
    private ExecutionContext? _executionContext;
    private TResult? _result;
    private ExceptionDispatchInfo? _error;
    private bool _completed;

    /// <summary>Creates the state for operations that complete on <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop whose thread completes the operations and resumes their awaiters.</param>
    public LoopValueTaskSourceCore(EventLoop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        _loop = loop;
    }

    /// <summary>The current operation's version: the token of the <see cref="ValueTask{TResult}"/> handed out for it.</summary>
    public short Version { get; private set; }

    /// <summary>True once the current operation has its result or error.</summary>
    public readonly bool IsCompleted => _completed;

    /// <summary>Forgets the last operation and starts a new one under a new <see cref="Version"/>.</summary>
    public void Reset()
    {
        Version++;
        _completed = false;
        _result = default;
        _error = null;
        _continuation = null;
        _continuationState = null;
        _capturedContext = null;
        _executionContext = null;
    }

    /// <summary>Completes the operation with <paramref name="result"/>; its awaiter may run inline, so touch nothing it owns afterwards.</summary>
    /// <param name="result">The result.</param>
    /// <exception cref="InvalidOperationException">Already completed, or not on the loop thread.</exception>
    public void SetResult(TResult result)
    {
        CheckCompletable();
        _result = result;
        SignalCompletion();
    }

    /// <summary>Completes the operation with <paramref name="error"/> (an <see cref="OperationCanceledException"/> makes it canceled).</summary>
    /// <param name="error">The error the awaiter's <c>GetResult</c> throws.</param>
    /// <exception cref="InvalidOperationException">Already completed, or not on the loop thread.</exception>
    public void SetException(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        CheckCompletable();
        _error = ExceptionDispatchInfo.Capture(error);
        SignalCompletion();
    }

    /// <summary>For <see cref="IValueTaskSource{TResult}.GetStatus"/>.</summary>
    /// <param name="token">The value task's token.</param>
    public readonly ValueTaskSourceStatus GetStatus(short token)
    {
        ValidateToken(token);
        return !_completed ? ValueTaskSourceStatus.Pending
            : _error is null ? ValueTaskSourceStatus.Succeeded
            : _error.SourceException is OperationCanceledException ? ValueTaskSourceStatus.Canceled
            : ValueTaskSourceStatus.Faulted;
    }

    /// <summary>For <see cref="IValueTaskSource{TResult}.GetResult"/>: the result, or the error thrown.</summary>
    /// <param name="token">The value task's token.</param>
    public readonly TResult GetResult(short token)
    {
        ValidateToken(token);
        if (!_completed) throw new InvalidOperationException("The operation has not completed yet; await it.");
        _error?.Throw();
        return _result!;
    }

    /// <summary>For <see cref="IValueTaskSource{TResult}.OnCompleted"/>: remembers where the awaiter resumes.</summary>
    /// <param name="continuation">What to run.</param>
    /// <param name="state">Its argument.</param>
    /// <param name="token">The value task's token.</param>
    /// <param name="flags">Whether to resume under the awaiter's context and flow its execution context.</param>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ValidateToken(token);
        if (_continuation is not null) throw new InvalidOperationException("A ValueTask can be awaited only once.");
        object? context = null;
        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0)
        {
            var current = SynchronizationContext.Current;
            if (current is LoopSynchronizationContext loopContext && ReferenceEquals(loopContext.Loop, _loop))
            {
                context = loopContext;
                // The loop resumes this await: it need not watch the awaiting method's task for its completion.
                _loop.NoteLoopAwait(loopContext.Task, current);
            }
            else if (current is not null && current.GetType() != typeof(SynchronizationContext)) context = current;
            else if (TaskScheduler.Current != TaskScheduler.Default) context = TaskScheduler.Current;
        }
        var execution = (flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 ? ExecutionContext.Capture() : null;
        if (_completed)
        {
            // Never inline here: the awaiter is still registering.
            Schedule(continuation, state, context, execution, inline: false);
            return;
        }
        _continuation = continuation;
        _continuationState = state;
        _capturedContext = context;
        _executionContext = execution;
    }

    private readonly void ValidateToken(short token)
    {
        if (token != Version) throw new InvalidOperationException("This ValueTask was already awaited (or its source reused); a ValueTask is awaited once.");
    }

    private readonly void CheckCompletable()
    {
        if (_loop is null) throw new InvalidOperationException("This source was not created for a loop.");
        if (_completed) throw new InvalidOperationException("The operation has already completed.");
        if (!_loop.IsLoopThread) throw new InvalidOperationException("A loop value-task source is completed on its loop's thread; use EventLoop.Post from elsewhere.");
    }

    private void SignalCompletion()
    {
        _completed = true;
        if (_continuation is not { } continuation) return; // not awaited yet: OnCompleted sees it is done
        var (state, context, execution) = (_continuationState, _capturedContext, _executionContext);
        _continuation = null;
        _continuationState = null;
        _capturedContext = null;
        _executionContext = null;
        Schedule(continuation, state, context, execution, inline: true);
    }

    private readonly void Schedule(Action<object?> continuation, object? state, object? context, ExecutionContext? execution, bool inline)
    {
        if (context is null && execution is null && inline)
        {
            continuation(state); // the common case of a library's own ConfigureAwait(false) await: no type test, no queue
            return;
        }

        switch (context)
        {
            case LoopSynchronizationContext loopContext:
                if (inline && ReferenceEquals(SynchronizationContext.Current, loopContext)) Run(continuation, state, execution);
                else if (execution is null) _loop.EnqueueReady(new ReadyItem(continuation, state, loopContext.Task));
                else _loop.EnqueueReady(new ReadyItem(static s => { var (c, st, e) = ((Action<object?>, object?, ExecutionContext))s!; Run(c, st, e); }, (continuation, state, execution), loopContext.Task));
                break;
            case SynchronizationContext foreign:
                foreign.Post(static s => { var (c, st, e) = ((Action<object?>, object?, ExecutionContext?))s!; Run(c, st, e); }, (continuation, state, execution));
                break;
            case TaskScheduler scheduler:
                Task.Factory.StartNew(static s => { var (c, st, e) = ((Action<object?>, object?, ExecutionContext?))s!; Run(c, st, e); }, (continuation, state, execution), CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler);
                break;
            default:
                if (inline) Run(continuation, state, execution);
                else if (execution is null) _loop.EnqueueReady(new ReadyItem(continuation, state));
                else _loop.EnqueueReady(new ReadyItem(static s => { var (c, st, e) = ((Action<object?>, object?, ExecutionContext))s!; Run(c, st, e); }, (continuation, state, execution)));
                break;
        }
    }

    private static void Run(Action<object?> continuation, object? state, ExecutionContext? execution)
    {
        if (execution is null) continuation(state);
        else ExecutionContext.Run(execution, static s => { var (c, st) = ((Action<object?>, object?))s!; c(st); }, (continuation, state));
    }
}
