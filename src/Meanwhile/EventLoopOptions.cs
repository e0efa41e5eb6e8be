using Microsoft.Extensions.Logging;

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

    /// <summary>Makes the loop's platform backend instead of <see cref="Reactor"/> (a simulation's hosts).</summary>
    internal Func<EventLoop, PlatformBackend>? Backend { get; init; }

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

    /// <summary>
    /// Whether the loop measures itself for <c>meanwhile ps</c> and <c>meanwhile top</c>: each task's busy and scheduled
    /// time, turns and waits, and turns that hog the loop (<see cref="SlowTurnThreshold"/>); and whether it shows on the
    /// process's diagnostics endpoint, a Unix socket only the process's user can open (docs/diagnostics.md). Null, the
    /// default, means on when the environment variable <c>MEANWHILE_DIAGNOSTICS</c> is <c>1</c>. Off, the loop measures
    /// nothing; its <c>Meanwhile.Loop</c> metrics work either way.
    /// </summary>
    public bool? Diagnostics { get; init; }

    /// <summary>
    /// A turn (one task running from a resume to its next await) that takes longer than this holds up every other task
    /// of the loop: with <see cref="Diagnostics"/> on, it is logged, naming the task and the async method that ran, and
    /// counted in the <c>meanwhile.loop.slow_turns</c> metric (asyncio's debug mode warns after 100 ms as well).
    /// Default: 100 ms.
    /// </summary>
    public TimeSpan SlowTurnThreshold
    {
        get => _slowTurnThreshold;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _slowTurnThreshold = value;
        }
    }

    private readonly TimeSpan _slowTurnThreshold = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Where the loop logs slow turns (category <c>Meanwhile.Loop</c>). Default: nowhere; they are still counted, and the
    /// last one shows in <c>meanwhile ps</c> and <c>top</c>.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The loop's name in diagnostics and metrics. Default: its thread's name, or "loop N".</summary>
    public string? Name { get; init; }
}
