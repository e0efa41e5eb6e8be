using System.Diagnostics;

namespace Meanwhile.Examples;

/// <summary>
/// Waiting costs nothing: a loop whose only task sleeps blocks in the kernel (epoll_wait) until its timer is
/// due, so the process uses almost no CPU while it waits. Prints the process CPU time used during the wait.
/// </summary>
public static class Idle
{
    public static async Task<(TimeSpan Wall, TimeSpan Cpu)> RunAsync(TextWriter output, TimeSpan wait)
    {
        var loop = EventLoop.Current;
        await loop.Delay(TimeSpan.FromMilliseconds(100)); // let start-up work (JIT, tiering) settle first
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        await loop.Delay(wait);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        output.WriteLine($"idle {loop.ReactorName} loop: waited {wall.Elapsed.TotalMilliseconds:0} ms using {cpu.TotalMilliseconds:0.0} ms of CPU");
        return (wall.Elapsed, cpu);
    }
}
