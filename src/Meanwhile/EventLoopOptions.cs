namespace Meanwhile;

/// <summary>How an <see cref="EventLoop"/> is set up.</summary>
public sealed record EventLoopOptions
{
    /// <summary>
    /// Where the loop reads time. Default: <see cref="TimeProvider.System"/>. Give a <see cref="VirtualClock"/>
    /// for tests: the loop then jumps to its next timer whenever every task waits on time only.
    /// </summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Which reactor to use. Default: <see cref="ReactorKind.Default"/>.</summary>
    public ReactorKind Reactor { get; init; }

    /// <summary>
    /// Receives errors nobody else can: a callback that threw, a task that failed while nobody observed it, a task
    /// given up at shutdown (<see cref="AbandonedTaskException"/>), a timeout that overran (<see cref="DeadlineOverrunException"/>).
    /// Called on the loop thread; or, for a task collected after its loop finished, on the finalizer thread; or, for a
    /// continuation dropped because it reached a task the loop gave up or a disposed loop, on the thread that sent it.
    /// Default: the error is written to standard error.
    /// </summary>
    public Action<LoopError>? OnError { get; init; }

    /// <summary>
    /// How long, once the main task has finished or <see cref="EventLoop.Stop"/> was called, the loop waits for the
    /// cancelled tasks to unwind. A task still alive then waits on something cancellation cannot reach (a foreign
    /// <see cref="Task"/> awaited without a token): the loop reports it to <see cref="OnError"/> by name and wait, gives
    /// it up, and returns; whatever later tries to resume it is dropped and reported. Measured on the loop's clock.
    /// Default: 5 seconds; <see cref="Timeout.InfiniteTimeSpan"/> waits for as long as it takes.
    /// </summary>
    public TimeSpan ShutdownGracePeriod
    {
        get => _shutdownGracePeriod;
        init
        {
            if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
                throw new ArgumentOutOfRangeException(nameof(value), value, "The grace period must be zero or more, or Timeout.InfiniteTimeSpan.");
            _shutdownGracePeriod = value;
        }
    }

    private readonly TimeSpan _shutdownGracePeriod = TimeSpan.FromSeconds(5);
}
