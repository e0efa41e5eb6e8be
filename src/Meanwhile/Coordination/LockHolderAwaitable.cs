using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// The wait for a <see cref="LoopLock"/> taken with <see cref="LoopLock.LockAsync"/>: <c>await</c> it once for the
/// <see cref="LoopLockHolder"/> that releases the lock, or convert it to a <see cref="ValueTask{TResult}"/>.
/// </summary>
/// <remarks>An awaitable of its own for the reason <see cref="PermitAwaitable"/> gives.</remarks>
public readonly struct LockHolderAwaitable
{
    private readonly LoopLock _lock;
    private readonly PermitAwaitable _wait;

    internal LockHolderAwaitable(LoopLock heldLock, PermitAwaitable wait)
    {
        _lock = heldLock;
        _wait = wait;
    }

    /// <summary>Whether the wait has ended: the lock was taken, or the wait was cancelled.</summary>
    public bool IsCompleted => _wait.IsCompleted;

    /// <summary>Whether the lock was taken (at once, or the wait ended with it).</summary>
    public bool IsCompletedSuccessfully => _wait.IsCompletedSuccessfully;

    /// <summary>Gets the awaiter, for <c>await</c>.</summary>
    public Awaiter GetAwaiter() => new(_lock, _wait.GetAwaiter());

    /// <summary>The wait as a <see cref="ValueTask{TResult}"/>, with the same rules (awaited once).</summary>
    public ValueTask<LoopLockHolder> AsValueTask() =>
        _wait.IsImmediate ? new(new LoopLockHolder(_lock)) : HoldAfter(_lock, _wait);

    /// <summary>The wait as a <see cref="Task{TResult}"/>, which may be awaited any number of times.</summary>
    public Task<LoopLockHolder> AsTask() => AsValueTask().AsTask();

    /// <summary>The wait as a <see cref="ValueTask{TResult}"/> (<see cref="AsValueTask"/>).</summary>
    public static implicit operator ValueTask<LoopLockHolder>(LockHolderAwaitable wait) => wait.AsValueTask();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<LoopLockHolder> HoldAfter(LoopLock heldLock, PermitAwaitable wait)
    {
        await wait;
        return new LoopLockHolder(heldLock);
    }

    /// <summary>Awaits a <see cref="LockHolderAwaitable"/>.</summary>
    public readonly struct Awaiter : ICriticalNotifyCompletion
    {
        private readonly LoopLock _lock;
        private readonly PermitAwaitable.Awaiter _wait;

        internal Awaiter(LoopLock heldLock, PermitAwaitable.Awaiter wait)
        {
            _lock = heldLock;
            _wait = wait;
        }

        /// <summary>Whether the wait has ended.</summary>
        public bool IsCompleted => _wait.IsCompleted;

        /// <summary>Ends the await: the holder of the lock, now the caller's.</summary>
        /// <exception cref="OperationCanceledException">The wait was cancelled: by its token, its task or a scope around it.</exception>
        /// <exception cref="InvalidOperationException">The wait was awaited already, or has not ended.</exception>
        public LoopLockHolder GetResult()
        {
            _wait.GetResult();
            return new LoopLockHolder(_lock);
        }

        /// <summary>Runs <paramref name="continuation"/> on the loop when the wait ends, in the execution context of this call.</summary>
        public void OnCompleted(Action continuation) => _wait.OnCompleted(continuation);

        /// <summary>Runs <paramref name="continuation"/> on the loop when the wait ends (the execution context is not flowed).</summary>
        public void UnsafeOnCompleted(Action continuation) => _wait.UnsafeOnCompleted(continuation);
    }
}
