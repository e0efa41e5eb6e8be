using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>The two builders' common step: the box an await moves the state machine into.</summary>
internal static class LoopPoolingBuilding
{
    /// <summary>
    /// The method's box, rented at its first await that waits. The builder's field is set before the state machine is
    /// copied into the box, so that the copy (which holds the builder) knows its box for the awaits after.
    /// </summary>
    public static PooledStateMachineBox<TStateMachine, TResult> BoxFor<TStateMachine, TResult>(ref LoopStateMachineBox<TResult>? field, ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        var context = ExecutionContext.Capture();
        if (field is PooledStateMachineBox<TStateMachine, TResult> existing)
        {
            existing.Context = context;
            return existing;
        }
        var box = PooledStateMachineBox<TStateMachine, TResult>.Rent();
        field = box;
        box.StateMachine = stateMachine;
        box.Context = context;
        return box;
    }

    /// <summary>
    /// What an <c>await</c> that waits registers, as <c>awaiter.UnsafeOnCompleted(box.MoveNextAction)</c> would. An awaiter
    /// of a <see cref="ValueTask"/> (configured or not; the methods awaiting socket reads and waits use these) backed by
    /// a loop wait gives the wait the box and <see cref="LoopWait.ResumableContinuation"/> instead, with the flags the
    /// awaiter would have passed: the same continuation at the same moment, without a delegate per box (the wait knows
    /// that continuation, as it knows an awaiter's Action, and keeps it in no side object).
    /// </summary>
    public static void AwaitUnsafe<TAwaiter, TStateMachine, TResult>(ref TAwaiter awaiter, PooledStateMachineBox<TStateMachine, TResult> box)
        where TAwaiter : ICriticalNotifyCompletion where TStateMachine : IAsyncStateMachine
    {
        // The awaiters below hold one field, their ValueTask; the type tests fold away in each instantiation.
        if (typeof(TAwaiter) == typeof(ConfiguredValueTaskAwaitable.ConfiguredValueTaskAwaiter))
        {
            ref var task = ref Unsafe.As<TAwaiter, ValueTask>(ref awaiter);
            if (ValueTaskParts.ObjectOf(ref task) is LoopWait wait)
            {
                ((IValueTaskSource)wait).OnCompleted(LoopWait.ResumableContinuation, box, ValueTaskParts.TokenOf(ref task),
                    ValueTaskParts.ContinuesOnCapturedContext(ref task) ? ValueTaskSourceOnCompletedFlags.UseSchedulingContext : ValueTaskSourceOnCompletedFlags.None);
                return;
            }
        }
        else if (typeof(TAwaiter) == typeof(ConfiguredValueTaskAwaitable<bool>.ConfiguredValueTaskAwaiter))
        {
            if (TryAwaitSource(ref Unsafe.As<TAwaiter, ValueTask<bool>>(ref awaiter), configured: true, box)) return;
        }
        else if (typeof(TAwaiter) == typeof(ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter))
        {
            if (TryAwaitSource(ref Unsafe.As<TAwaiter, ValueTask<int>>(ref awaiter), configured: true, box)) return;
        }
        else if (typeof(TAwaiter) == typeof(ValueTaskAwaiter<bool>))
        {
            if (TryAwaitSource(ref Unsafe.As<TAwaiter, ValueTask<bool>>(ref awaiter), configured: false, box)) return;
        }
        else if (typeof(TAwaiter) == typeof(ValueTaskAwaiter<int>))
        {
            if (TryAwaitSource(ref Unsafe.As<TAwaiter, ValueTask<int>>(ref awaiter), configured: false, box)) return;
        }
        awaiter.UnsafeOnCompleted(box.MoveNextAction);
    }

    // As ValueTaskAwaiter<T> (always the scheduling context) and ConfiguredValueTaskAwaiter<T> (the task's own flag) register an Action.
    private static bool TryAwaitSource<T, TStateMachine, TResult>(ref ValueTask<T> task, bool configured, PooledStateMachineBox<TStateMachine, TResult> box)
        where TStateMachine : IAsyncStateMachine
    {
        if (ValueTaskParts<T>.ObjectOf(ref task) is not LoopWait { } wait || wait is not IValueTaskSource<T> source) return false;
        bool useContext = !configured || ValueTaskParts<T>.ContinuesOnCapturedContext(ref task);
        source.OnCompleted(LoopWait.ResumableContinuation, box, ValueTaskParts<T>.TokenOf(ref task),
            useContext ? ValueTaskSourceOnCompletedFlags.UseSchedulingContext : ValueTaskSourceOnCompletedFlags.None);
        return true;
    }

    /// <summary>A box for a method that fails before any await waited (a state machine of no type: nothing to resume).</summary>
    public static LoopStateMachineBox<TResult> BoxFor<TResult>(ref LoopStateMachineBox<TResult>? field) =>
        field ??= PooledStateMachineBox<NoStateMachine, TResult>.Rent();

    /// <summary>Stands for the state machine of a method that failed before it waited: its box is never resumed.</summary>
    internal struct NoStateMachine : IAsyncStateMachine
    {
        public readonly void MoveNext()
        {
        }

        public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
        {
        }
    }
}
