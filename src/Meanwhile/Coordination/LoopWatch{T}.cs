using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// The latest value of something, for tasks on one loop that wait for it to change (tokio's <c>watch</c>): a
/// configuration, a state, a progress count. Readers see the newest value; values set in between may be skipped.
/// </summary>
/// <remarks>
/// Every member is for the loop's thread. A wait ends with <see cref="OperationCanceledException"/> when its task or a
/// scope around it is cancelled, without a token, and shows in <see cref="EventLoop.GetTasks"/>.
/// </remarks>
/// <example>
/// <code>
/// long seen = settings.Version;
/// while (true)
/// {
///     var current = await settings.WaitChangedAsync(seen);
///     seen = settings.Version;
///     Apply(current);
/// }
/// </code>
/// </example>
/// <typeparam name="T">The value's type.</typeparam>
public sealed class LoopWatch<T> : IWaiterHost
{
    private readonly string? _name;
    private EventLoop? _loop;
    private WaiterList _waiters;
    private SpareWaiters _spares;
    private T _value;
    private long _version;

    /// <summary>Creates a watch holding <paramref name="initialValue"/> at version 0.</summary>
    /// <param name="initialValue">The first value.</param>
    /// <param name="name">A name for introspection (<see cref="WaitReason.Name"/>).</param>
    public LoopWatch(T initialValue, string? name = null)
    {
        _value = initialValue;
        _name = name;
    }

    /// <summary>The name given at creation, if any.</summary>
    public string? Name => _name;

    /// <summary>The latest value.</summary>
    public T Value => _value;

    /// <summary>How many times a value was set: compare it to tell whether the value changed.</summary>
    public long Version => _version;

    /// <summary>Sets a new value and wakes every task waiting for a change.</summary>
    /// <param name="value">The value.</param>
    public void Set(T value)
    {
        LoopAffinity.Enter(ref _loop);
        _value = value;
        _version++;
        while (_waiters.TakeFirst() is { } waiter) waiter.Grant();
    }

    /// <summary>
    /// Waits until <see cref="Version"/> differs from <paramref name="seenVersion"/> (at once if it does already) and
    /// returns the latest value, read when the task resumes; read <see cref="Version"/> then too, to know which.
    /// </summary>
    /// <param name="seenVersion">The version the caller has seen.</param>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    public ValueTask<T> WaitChangedAsync(long seenVersion, CancellationToken cancellationToken = default)
    {
        var owner = LoopAffinity.Enter(ref _loop);
        if (_version != seenVersion) return new ValueTask<T>(_value);
        var waiter = _spares.Take() ?? new Waiter(_loop!, this) { Kind = WaitKind.Watch };
        if (waiter.Start(cancellationToken, owner)) _waiters.Append(waiter);
        return ValueAfter(waiter.AsTask());
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> ValueAfter(ValueTask changed)
    {
        await changed;
        return _value;
    }

    /// <summary>Waits until <paramref name="predicate"/> holds for the latest value (tokio's <c>wait_for</c>) and returns that value.</summary>
    /// <param name="predicate">Checked now and after each change.</param>
    /// <param name="cancellationToken">Ends the wait; so does cancelling the calling task.</param>
    public async ValueTask<T> WaitUntilAsync(Func<T, bool> predicate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        while (!predicate(_value)) await WaitChangedAsync(_version, cancellationToken);
        return _value;
    }

    WaitReason IWaiterHost.ReasonFor(Waiter waiter) => new(WaitKind.Watch, 0, _name);

    void IWaiterHost.Unlink(Waiter waiter) => _waiters.Unlink(waiter);

    bool IWaiterHost.TryGiveBack(Waiter waiter) => true; // nothing to give back: the next wait sees the change

    void IWaiterHost.Recycle(Waiter waiter) => _spares.Keep(waiter);
}
