using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// The wait for a permit of a <see cref="LoopLock"/> or a <see cref="LoopSemaphore"/>: <c>await</c> it once, or convert
/// it to a <see cref="ValueTask"/> (implicitly, or with <see cref="AsValueTask"/>) or a <see cref="Task"/>
/// (<see cref="AsTask"/>) to store it or pass it on.
/// </summary>
/// <remarks>
/// An awaitable of its own, as <see cref="Task.Yield"/> returns one, because a contended lock is a task switch per
/// operation and .NET's <see cref="ValueTask"/> await costs more than the rest of the switch: it asks whether its
/// object is a <see cref="Task"/> at each step and reaches the wait through interface calls, where this awaiter calls
/// the wait directly. Awaiting it is what awaiting the <see cref="ValueTask"/> it converts to would be, same rules
/// included: once only, and the wait's own thread (the loop's) resumes it. One difference in cost: the first time an
/// async method suspends on an awaiter of its own, the runtime makes that method's resume delegate (64 B, once per
/// method call; a method that waits again reuses it), which a <see cref="ValueTask"/>'s source does not need.
/// </remarks>
public readonly struct PermitAwaitable
{
    private readonly PermitWaiter? _waiter; // null: the permit was taken at once
    private readonly short _version;

    internal PermitAwaitable(PermitWaiter waiter, short version)
    {
        _waiter = waiter;
        _version = version;
    }

    /// <summary>Whether the permit was taken at once, with no wait.</summary>
    internal bool IsImmediate => _waiter is null;

    /// <summary>Whether the wait has ended: the permit was taken, or the wait was cancelled.</summary>
    public bool IsCompleted => _waiter is null || _waiter.IsEnded(_version);

    /// <summary>Whether the permit was taken (at once, or the wait ended with it).</summary>
    public bool IsCompletedSuccessfully => _waiter is null || _waiter.IsGranted(_version);

    /// <summary>Gets the awaiter, for <c>await</c>.</summary>
    public Awaiter GetAwaiter() => new(_waiter, _version);

    /// <summary>The wait as a <see cref="ValueTask"/>, with the same rules (awaited once).</summary>
    public ValueTask AsValueTask() => _waiter is null ? default : new ValueTask(_waiter, _version);

    /// <summary>The wait as a <see cref="Task"/>, which may be awaited any number of times.</summary>
    public Task AsTask() => AsValueTask().AsTask();

    /// <summary>The wait as a <see cref="ValueTask"/> (<see cref="AsValueTask"/>).</summary>
    public static implicit operator ValueTask(PermitAwaitable wait) => wait.AsValueTask();

    /// <summary>Awaits a <see cref="PermitAwaitable"/>.</summary>
    public readonly struct Awaiter : ICriticalNotifyCompletion
    {
        private readonly PermitWaiter? _waiter;
        private readonly short _version;

        internal Awaiter(PermitWaiter? waiter, short version)
        {
            _waiter = waiter;
            _version = version;
        }

        /// <summary>Whether the wait has ended.</summary>
        public bool IsCompleted
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => _waiter is null || _waiter.IsEnded(_version);
        }

        /// <summary>Ends the await: returns once the permit is the caller's.</summary>
        /// <exception cref="OperationCanceledException">The wait was cancelled: by its token, its task or a scope around it.</exception>
        /// <exception cref="InvalidOperationException">The wait was awaited already, or has not ended.</exception>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void GetResult() => _waiter?.GetResult(_version);

        /// <summary>Runs <paramref name="continuation"/> on the loop when the wait ends, in the execution context of this call.</summary>
        public void OnCompleted(Action continuation)
        {
            if (_waiter is null) default(ValueTask).GetAwaiter().OnCompleted(continuation); // no wait: as a completed ValueTask does
            else _waiter.OnCompleted(continuation, _version, flowExecutionContext: true);
        }

        /// <summary>Runs <paramref name="continuation"/> on the loop when the wait ends (the execution context is not flowed).</summary>
        public void UnsafeOnCompleted(Action continuation)
        {
            if (_waiter is null) default(ValueTask).GetAwaiter().UnsafeOnCompleted(continuation);
            else _waiter.OnCompleted(continuation, _version, flowExecutionContext: false);
        }
    }
}
