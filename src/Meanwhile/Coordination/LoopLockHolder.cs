namespace Meanwhile;

/// <summary>Holds a <see cref="LoopLock"/> taken with <see cref="LoopLock.LockAsync"/>; disposing it releases the lock.</summary>
public readonly struct LoopLockHolder : IDisposable
{
    private readonly LoopLock? _lock;

    internal LoopLockHolder(LoopLock held) => _lock = held;

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _lock?.Release();
}
