using System.Threading.Tasks.Sources;

namespace Meanwhile.Benchmarks;

/// <summary>
/// The runtime's floor for the lock benchmark: the least a hand-off between two async methods can cost in .NET through a
/// <see cref="ValueTask"/> (<see cref="AwaiterBaton"/> is the same with an awaiter of its own). A
/// one-waiter lock with no checks, no cancellation and no introspection, its continuations run from a bare queue on
/// the calling thread, no loop involved; the two methods take turns exactly as the loop's tasks do (release, then await
/// an acquisition, a <see cref="ValueTask"/>). What is left is .NET's own await: suspending an async
/// method on a <see cref="ValueTask"/>, queuing its continuation, resuming it.
/// </summary>
internal sealed class Baton : IValueTaskSource
{
    private readonly Queue<(Action<object?> Continuation, object? State)> _ready = new();
    private Action<object?>? _continuation;
    private object? _state;
    private bool _held;
    private bool _waiting;
    private bool _granted;
    private short _version;

    public static Task Run(long ops)
    {
        var baton = new Baton();

        async Task TakeTurns(long count)
        {
            for (long i = 0; i < count; i++)
            {
                baton.Release();
                await baton.AcquireAsync();
            }
            baton.Release();
        }

        async Task Other()
        {
            await baton.AcquireAsync();
            await TakeTurns(ops / 2 - 1);
        }

        _ = baton.AcquireAsync(); // free: taken at once
        var other = Other(); // waits for it
        var first = TakeTurns(ops - ops / 2);
        while (baton._ready.TryDequeue(out var item)) item.Continuation(item.State);
        return Task.WhenAll(first, other);
    }

    private ValueTask AcquireAsync()
    {
        if (!_held)
        {
            _held = true;
            return default;
        }
        _waiting = true;
        _granted = false;
        return new ValueTask(this, ++_version);
    }

    private void Release()
    {
        if (!_waiting)
        {
            _held = false;
            return;
        }
        _waiting = false;
        _granted = true; // still held: passed to the waiter
        if (_continuation is { } continuation)
        {
            _ready.Enqueue((continuation, _state));
            _continuation = null;
            _state = null;
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _granted ? ValueTaskSourceStatus.Succeeded : ValueTaskSourceStatus.Pending;

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        if (_granted) _ready.Enqueue((continuation, state));
        else
        {
            _continuation = continuation;
            _state = state;
        }
    }

    public void GetResult(short token) => _granted = false;
}
