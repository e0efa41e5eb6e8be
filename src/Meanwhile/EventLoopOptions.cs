namespace Meanwhile;

/// <summary>How an <see cref="EventLoop"/> is set up.</summary>
public sealed class EventLoopOptions
{
    /// <summary>
    /// Where the loop reads time. Default: <see cref="TimeProvider.System"/>. Give a <see cref="VirtualClock"/>
    /// for tests: the loop then jumps to its next timer whenever every task waits on time only.
    /// </summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Which reactor to use. Default: <see cref="ReactorKind.Default"/>.</summary>
    public ReactorKind Reactor { get; init; }

    /// <summary>
    /// Receives errors nobody else can: a callback that threw, a task that failed while nobody observed it.
    /// Called on the loop thread (or, for a task collected after its loop finished, on the finalizer thread).
    /// Default: the error is written to standard error.
    /// </summary>
    public Action<LoopError>? OnError { get; init; }
}
