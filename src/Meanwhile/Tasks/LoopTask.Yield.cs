using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

public partial class LoopTask
{
    /// <summary>
    /// A yield of this task, awaited through the task itself as an <see cref="IValueTaskSource"/>: the runtime hands
    /// the continuation over without allocating a delegate. Returns false if a yield of this task is already pending.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into Yield: the out argument then needs no GC write barrier
    internal bool TryYield(out ValueTask yield)
    {
        if (_yield != YieldState.Idle)
        {
            yield = default;
            return false;
        }
        _yield = YieldState.Waiting;
        yield = new ValueTask(this, ++_yieldVersion);
        return true;
    }

    /// <summary>Whether a yield of this task is queued to resume: the task is ready to run.</summary>
    internal bool IsYieldQueued => _yield == YieldState.Resumed;

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) =>
        _yield == YieldState.Resumed ? ValueTaskSourceStatus.Succeeded : ValueTaskSourceStatus.Pending;

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        if (token != _yieldVersion || _yield != YieldState.Waiting)
            throw new InvalidOperationException("This yield was already awaited.");
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 && ExecutionContext.Capture() is { } context)
        {
            continuation = FlowedContinuation.Wrap(context, continuation, state);
            state = null;
        }
        // Marked done now and resumed from the ready queue: nothing reads the state in between, and the task needs no
        // fields to hold the continuation.
        _yield = YieldState.Resumed;
        // Noted without looking at the current context: the loop resumes this continuation in this task whoever
        // registered it, and the note matters only in a turn of this task.
        var loop = Context.Loop;
        loop.NoteOwnLoopAwait(this);
        if (ReferenceEquals(continuation, loop.AsyncMethodContinuation)) loop.EnqueueReady(ReadyItem.ForAsyncMethod(state, this));
        else loop.EnqueueReady(new ReadyItem(continuation, state, this));
    }

    void IValueTaskSource.GetResult(short token)
    {
        if (token != _yieldVersion || _yield != YieldState.Resumed) throw new InvalidOperationException("This yield was already awaited, or has not finished.");
        _yield = YieldState.Idle;
    }
}
