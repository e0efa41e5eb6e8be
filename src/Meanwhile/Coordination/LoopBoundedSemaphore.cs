namespace Meanwhile;

/// <summary>
/// A <see cref="LoopSemaphore"/> that refuses to be released more times than it was acquired (asyncio's
/// <c>BoundedSemaphore</c>), which catches a task that releases twice.
/// </summary>
public sealed class LoopBoundedSemaphore : LoopSemaphore
{
    private readonly int _maximum;

    /// <summary>Creates a bounded semaphore.</summary>
    /// <param name="initialCount">How many permits are free at first, and the most there can ever be.</param>
    /// <param name="name">A name for introspection.</param>
    public LoopBoundedSemaphore(int initialCount, string? name = null) : base(initialCount, name) => _maximum = initialCount;

    private protected override void CheckRelease(int count)
    {
        if (CurrentCount + count > _maximum)
            throw new SemaphoreFullException($"Releasing {count} permit(s) would leave {(Name is null ? "the semaphore" : $"semaphore '{Name}'")} with more than its {_maximum}.");
    }
}
