using System.Diagnostics;
using System.Globalization;

namespace Meanwhile.Benchmarks;

/// <summary>
/// An idle loop: the main task waits on one long Delay, so the loop should sit in epoll_wait with that deadline
/// as its timeout. Reports the whole process's CPU time over the wait (every thread: GC, JIT, the loop) and how
/// many times the loop thread went to sleep (its voluntary context switches), i.e. how often it woke.
/// </summary>
internal static class IdleBenchmark
{
    public static int Run(Options options)
    {
        double seconds = options.Number("seconds", 1, 0.01);
        bool json = options.Flag("json");
        options.RejectUnknown();

        double cpuMs = 0, wallS = 0;
        long switches = 0;
        var threads = new List<(string Name, double Ms)>();
        EventLoop.Run(async () =>
        {
            var loop = EventLoop.Current;
            using var process = Process.GetCurrentProcess();
            // Run every probe once so that its JIT and first-use costs fall outside the window, then settle: the
            // runtime's start-up work (tiering, the first GC) is not the loop's idle cost.
            _ = ThreadCpuNanoseconds();
            _ = LoopThreadVoluntarySwitches();
            process.Refresh();
            _ = process.TotalProcessorTime;
            await loop.Delay(TimeSpan.FromMilliseconds(500));

            // Cheapest probes closest to the window: the process CPU time is read right before and right after it.
            var threads0 = ThreadCpuNanoseconds();
            long switches0 = LoopThreadVoluntarySwitches();
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            await loop.Delay(TimeSpan.FromSeconds(seconds));
            long end = Stopwatch.GetTimestamp();
            process.Refresh();
            var cpu1 = process.TotalProcessorTime;
            switches = LoopThreadVoluntarySwitches() - switches0;
            foreach (var (tid, (name, ns)) in ThreadCpuNanoseconds())
            {
                long before = threads0.TryGetValue(tid, out var t0) ? t0.Ns : 0;
                if (ns > before) threads.Add(($"{name}#{tid}", (ns - before) / 1e6));
            }
            threads.Sort((a, b) => b.Ms.CompareTo(a.Ms));
            cpuMs = (cpu1 - cpu0).TotalMilliseconds;
            wallS = Measure.Seconds(start, end);
        });

        double perSecond = cpuMs / wallS;
        if (json)
        {
            Console.WriteLine(new Json()
                .Add("bench", "idle").Add("impl", "meanwhile").Add("seconds", wallS)
                .Add("cpu_ms", cpuMs).Add("cpu_ms_per_s", perSecond).Add("loop_sleeps", switches)
                .Add("busiest_threads", string.Join("; ", threads.Take(4).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name} {t.Ms:F2} ms")))));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"idle: waited {wallS:F3} s on one Delay: process CPU {cpuMs:F2} ms ({perSecond:F2} ms/s), loop thread slept {switches} time(s); " +
                $"CPU by thread: {string.Join(", ", threads.Take(4).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name} {t.Ms:F2} ms")))}"));
        }
        return 0;
    }

    /// <summary>Each thread's time on a CPU (first field of /proc/self/task/*/schedstat, in ns) with its name; empty without /proc.</summary>
    private static Dictionary<int, (string Name, long Ns)> ThreadCpuNanoseconds()
    {
        var result = new Dictionary<int, (string, long)>();
        try
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    int tid = int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture);
                    var schedstat = File.ReadAllText(Path.Combine(dir, "schedstat"));
                    long ns = long.Parse(schedstat.AsSpan(0, schedstat.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
                    result[tid] = (File.ReadAllText(Path.Combine(dir, "comm")).Trim(), ns);
                }
                catch (IOException) { /* the thread ended meanwhile */ }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return result;
    }

    /// <summary>voluntary_ctxt_switches of the calling thread, or -1 without /proc.</summary>
    private static long LoopThreadVoluntarySwitches()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/thread-self/status"))
                if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan("voluntary_ctxt_switches:".Length).Trim(), CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }
}
