namespace Meanwhile;

/// <summary>Which reactor a loop waits on for I/O.</summary>
public enum ReactorKind
{
    /// <summary>epoll on Linux, the portable reactor elsewhere; the <c>MEANWHILE_REACTOR</c> environment variable (<c>epoll</c> or <c>portable</c>) overrides it.</summary>
    Default,
    /// <summary>The loop's own epoll reactor (Linux only).</summary>
    Epoll,
    /// <summary>The portable reactor, built on .NET's own async socket APIs; runs everywhere .NET does.</summary>
    Portable,
}

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

/// <summary>An error reported to <see cref="EventLoopOptions.OnError"/>.</summary>
/// <param name="Exception">What was thrown.</param>
/// <param name="Message">Where it came from, in words.</param>
/// <param name="TaskId">The task it concerns, or 0.</param>
/// <param name="TaskName">That task's name, if it has one.</param>
public sealed record LoopError(Exception Exception, string Message, int TaskId, string? TaskName)
{
    /// <inheritdoc />
    public override string ToString() =>
        TaskId == 0 ? $"{Message}: {Exception}" : $"{Message} (task #{TaskId}{(TaskName is null ? "" : $" '{TaskName}'")}): {Exception}";
}
