using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// <see cref="LoopPoolingValueTaskMethodBuilder"/> for <see cref="ValueTask{TResult}"/> methods: their boxes pooled per
/// thread, as many as a loop has calls waiting at once (up to 256 per method).
/// </summary>
/// <typeparam name="TResult">The method's result.</typeparam>
public struct LoopPoolingValueTaskMethodBuilder<TResult>
{
    private LoopStateMachineBox<TResult>? _box;
    private TResult _result;

    /// <summary>Creates a builder (called by the compiler).</summary>
    /// <returns>An empty builder.</returns>
    public static LoopPoolingValueTaskMethodBuilder<TResult> Create() => default;

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
    /// <param name="result">The method's result.</param>
    public void SetResult(TResult result)
    {
        if (_box is { } box) box.SetResult(result);
        else _result = result;
    }

    /// <summary>Fails the task (called by the compiler).</summary>
    /// <param name="exception">The method's exception.</param>
    public void SetException(Exception exception) => LoopPoolingBuilding.BoxFor<TResult>(ref _box).SetException(exception);

    /// <summary>The method's task (called by the compiler).</summary>
    public readonly ValueTask<TResult> Task => _box is { } box ? new ValueTask<TResult>(box, box.Version) : new ValueTask<TResult>(_result);

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
