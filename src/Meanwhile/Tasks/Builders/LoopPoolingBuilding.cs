using System.Runtime.CompilerServices;

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
