using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// An async method builder for <see cref="ValueTask"/> methods that pools their boxes per thread, as many as a loop has
/// calls waiting at once (up to 256 per method). <see cref="PoolingAsyncValueTaskMethodBuilder"/> keeps about one box per
/// core and method, so a method that many connections of one loop wait in at the same time allocates a box per call.
/// </summary>
/// <remarks>
/// Use it as <see cref="PoolingAsyncValueTaskMethodBuilder"/> is used:
/// <c>[AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder))]</c> on the method. The same rules hold: the
/// returned task is awaited exactly once, and not after that. A call that completes without waiting uses no box.
/// </remarks>
public struct LoopPoolingValueTaskMethodBuilder
{
    private LoopStateMachineBox<bool>? _box;

    /// <summary>Creates a builder (called by the compiler).</summary>
    /// <returns>An empty builder.</returns>
    public static LoopPoolingValueTaskMethodBuilder Create() => default;

    /// <summary>Runs the method up to its first await that waits (called by the compiler).</summary>
    /// <typeparam name="TStateMachine">The method's state machine.</typeparam>
    /// <param name="stateMachine">The state machine, on the caller's stack.</param>
    public readonly void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => default(AsyncValueTaskMethodBuilder).Start(ref stateMachine);

    /// <summary>Unused: the state machine is moved into its box at its first await (called by the compiler).</summary>
    /// <param name="stateMachine">The boxed state machine.</param>
    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
    }

    /// <summary>Completes the task (called by the compiler).</summary>
    public void SetResult() => _box?.SetResult(true);

    /// <summary>Fails the task (called by the compiler).</summary>
    /// <param name="exception">The method's exception.</param>
    public void SetException(Exception exception) => LoopPoolingBuilding.BoxFor<bool>(ref _box).SetException(exception);

    /// <summary>The method's task (called by the compiler).</summary>
    public readonly ValueTask Task => _box is { } box ? new ValueTask(box, box.Version) : default;

    /// <summary>Waits on an awaiter (called by the compiler).</summary>
    /// <typeparam name="TAwaiter">The awaiter.</typeparam>
    /// <typeparam name="TStateMachine">The method's state machine.</typeparam>
    /// <param name="awaiter">The awaiter.</param>
    /// <param name="stateMachine">The state machine.</param>
    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion where TStateMachine : IAsyncStateMachine =>
        awaiter.OnCompleted(LoopPoolingBuilding.BoxFor(ref _box, ref stateMachine).MoveNextAction);

    /// <summary>Waits on an awaiter (called by the compiler).</summary>
    /// <typeparam name="TAwaiter">The awaiter.</typeparam>
    /// <typeparam name="TStateMachine">The method's state machine.</typeparam>
    /// <param name="awaiter">The awaiter.</param>
    /// <param name="stateMachine">The state machine.</param>
    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion where TStateMachine : IAsyncStateMachine =>
        LoopPoolingBuilding.AwaitUnsafe(ref awaiter, LoopPoolingBuilding.BoxFor(ref _box, ref stateMachine));
}
