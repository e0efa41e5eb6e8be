using System.Runtime.ExceptionServices;

namespace Meanwhile.Tests;

/// <summary>A fact that needs the epoll reactor; skipped when the suite runs on the portable one.</summary>
public sealed class EpollFactAttribute : FactAttribute
{
    public EpollFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "needs Linux (epoll)";
        else if (string.Equals(Environment.GetEnvironmentVariable("MEANWHILE_REACTOR"), "portable", StringComparison.OrdinalIgnoreCase))
            Skip = "the suite runs on the portable reactor, which does not watch raw descriptors";
    }
}

internal static class Loops
{
    /// <summary>The longest any single loop run may take in a test before it counts as hung.</summary>
    public static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="main"/> on a fresh loop on its own thread and fails the test if the loop has not
    /// returned within <see cref="HangLimit"/> — a hung loop must fail one test, not stall the suite.
    /// </summary>
    public static void Run(Func<EventLoop, Task> main, EventLoopOptions? options = null)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var loop = new EventLoop(options);
                loop.RunUntilComplete(() => main(loop));
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = "test loop" };
        thread.Start();
        if (!thread.Join(HangLimit)) throw new TimeoutException($"The loop did not finish within {HangLimit}.");
        failure?.Throw();
    }

    /// <summary>Runs on a loop whose clock is virtual; returns the clock to inspect.</summary>
    public static VirtualClock RunVirtual(Func<EventLoop, VirtualClock, Task> main, Action<LoopError>? onError = null)
    {
        var clock = new VirtualClock();
        Run(loop => main(loop, clock), new EventLoopOptions { TimeProvider = clock, OnError = onError });
        return clock;
    }

    public static T Run<T>(Func<EventLoop, Task<T>> main, EventLoopOptions? options = null)
    {
        T result = default!;
        Run(async loop => { result = await main(loop); }, options);
        return result;
    }
}
