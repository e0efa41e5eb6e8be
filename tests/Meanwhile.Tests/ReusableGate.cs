using System.Threading.Tasks.Sources;

namespace Meanwhile.Tests;

/// <summary>
/// A reusable wait completed by hand: awaits that really wait, with no loop or thread. An await with
/// <c>ConfigureAwait(false)</c> is resumed inline by <see cref="Open"/> (a plain one would be posted to the test's context).
/// </summary>
internal sealed class ReusableGate : IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _core;

    public ValueTask<int> WaitAsync() => new(this, _core.Version);

    public void Open(int value) => _core.SetResult(value);

    public void Fail(Exception error) => _core.SetException(error);

    public int GetResult(short token)
    {
        try { return _core.GetResult(token); }
        finally { _core.Reset(); }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
