using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>
/// What a <see cref="ValueTask"/> made by <see cref="LoopPoolingValueTaskMethodBuilder"/> (or its generic twin) waits
/// on: the method's state machine, moved here at its first await that waits, and the outcome. Back in its thread's
/// pool once the awaiter has read the outcome.
/// </summary>
internal abstract class LoopStateMachineBox<TResult> : IValueTaskSource<TResult>, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<TResult> _core;

    public short Version => _core.Version;

    public void SetResult(TResult result) => _core.SetResult(result);

    public void SetException(Exception error) => _core.SetException(error);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public TResult GetResult(short token)
    {
        // A failed box is not reused: GetResult throws before the reset (failures are rare, and an invalid token must not recycle).
        var result = _core.GetResult(token);
        _core.Reset();
        Recycle();
        return result;
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    /// <summary>Clears the state machine and offers the box to the current thread's pool.</summary>
    protected abstract void Recycle();
}
