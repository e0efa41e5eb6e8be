using System.Runtime.ExceptionServices;

namespace Meanwhile.Testing;

/// <summary>Runs a test body on a fresh loop on its own thread; a loop that does not finish fails the test, not the suite.</summary>
public static class Loops
{
    /// <summary>The longest any single loop run may take in a test before it counts as hung.</summary>
    public static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(60);

    /// <summary>Runs <paramref name="main"/> on a fresh loop and rethrows what it threw.</summary>
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
        if (!thread.Join(HangLimit)) throw new TimeoutException($"The loop did not finish within {HangLimit}. {MachineState()}");
        failure?.Throw();
    }

    // Tells a hung loop from a stalled machine: the process's CPU time, the collections and the load when time ran out.
    private static string MachineState()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
        return $"Process CPU time {self.TotalProcessorTime.TotalSeconds:F1} s, GCs {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, " +
            $"GC pause {GC.GetTotalPauseDuration().TotalSeconds:F1} s, load average {load}.";
    }

    /// <summary>Runs <paramref name="main"/>, which finds its loop through <see cref="EventLoop.Current"/>.</summary>
    public static void Run(Func<Task> main, EventLoopOptions? options = null) => Run(_ => main(), options);

    /// <summary>Runs <paramref name="main"/> and returns its result.</summary>
    public static T Run<T>(Func<EventLoop, Task<T>> main, EventLoopOptions? options = null)
    {
        T result = default!;
        Run(async loop => { result = await main(loop); }, options);
        return result;
    }

    /// <summary>Runs on a loop whose clock is virtual; returns the clock to inspect.</summary>
    public static VirtualClock RunVirtual(Func<EventLoop, VirtualClock, Task> main, Action<LoopError>? onError = null)
    {
        var clock = new VirtualClock();
        Run(loop => main(loop, clock), new EventLoopOptions { TimeProvider = clock, OnError = onError });
        return clock;
    }
}
