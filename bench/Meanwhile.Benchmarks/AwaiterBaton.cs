using System.Runtime.CompilerServices;

namespace Meanwhile.Benchmarks;

/// <summary>
/// <see cref="Baton"/> with an awaiter of its own instead of a <see cref="ValueTask"/>: the runtime's floor for a
/// hand-off awaited the way <see cref="PermitAwaitable"/> is. The same one-waiter lock, bare queue and turns; the
/// difference between the two batons is what .NET's <see cref="ValueTask"/> await costs by itself.
/// </summary>
internal sealed class AwaiterBaton
{
    private readonly Queue<Action> _ready = new();
    private Action? _continuation;
    private bool _held;
    private bool _waiting;
    private bool _granted;

    public static Task Run(long ops)
    {
        var baton = new AwaiterBaton();

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
        while (baton._ready.TryDequeue(out var continuation)) continuation();
        return Task.WhenAll(first, other);
    }

    private Acquisition AcquireAsync()
    {
        if (!_held)
        {
            _held = true;
            return new Acquisition(null);
        }
        _waiting = true;
        _granted = false;
        return new Acquisition(this);
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
            _ready.Enqueue(continuation);
            _continuation = null;
        }
    }

    private void OnCompleted(Action continuation)
    {
        if (_granted) _ready.Enqueue(continuation);
        else _continuation = continuation;
    }

    private readonly struct Acquisition(AwaiterBaton? baton)
    {
        public Awaiter GetAwaiter() => new(baton);
    }

    private readonly struct Awaiter(AwaiterBaton? baton) : ICriticalNotifyCompletion
    {
        public bool IsCompleted => baton is null || baton._granted;

        public void GetResult()
        {
            if (baton is not null) baton._granted = false;
        }

        public void OnCompleted(Action continuation) => baton!.OnCompleted(continuation);

        public void UnsafeOnCompleted(Action continuation) => baton!.OnCompleted(continuation);
    }
}
