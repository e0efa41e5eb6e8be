using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Meanwhile.Benchmarks;

/// <summary>
/// Event-loop benchmarks for issue 2: spawn/yield/complete rate, a million concurrent sleeps, idle CPU.
/// Each subcommand prints a human line, or one JSON object with --json (the shape bench/peers/* print too).
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: Meanwhile.Benchmarks <command> [options] [--json]

          spawn  [--tasks N] [--runs R] [--batch B] [--warmup-seconds S]
                 N tasks spawned, each yielding once then completing, B at a time; median of R runs.
          sleeps [--count N] [--mode spawn|direct|timers] [--warmup-seconds S] [--no-warmup]
                 N concurrent 1-second loop.Delay sleeps. spawn: one spawned task per sleep (default);
                 direct: one plain async method per sleep; timers: the Delay ValueTasks themselves.
          idle   [--seconds S]
                 process CPU time while the loop waits S seconds on one Delay.
          deadlines [--connections N] [--passes P] [--requests R]
                 connection deadlines kept by a heartbeat walk (the server before issue 14) against DeadlineQueues:
                 one heartbeat pass over N idle connections (cold and warm caches), and the deadline work per request.

        Coordination (issue 16; bench/coordination.sh runs them against asyncio):
          queue   --impl meanwhile|channel [--mode single|batch] [--items N] [--capacity C] [--batch B] [--runs R]
                 N items from one task to another on one loop through a bounded LoopQueue or Channel<T>, one at a
                 time or B at a time; items per second, median of R runs after a warm-up.
          lock    --impl meanwhile|semaphoreslim|yield|bare [--hold none|yield] [--ops N] [--runs R]
                 two tasks taking turns at a LoopLock or SemaphoreSlim(1) (each acquisition waits for the other's
                 release); with --hold yield each holds it across a yield too. Floors: yield, the same tasks with no
                 lock (a yield per turn); bare, two async methods passing a baton with no loop. Rates and CPU ns per op.
          waiters --impl meanwhile|semaphoreslim|channel [--count N]
                 bytes per blocked waiter: N pending waits on one queue/semaphore/channel, and N tasks blocked on one.

        Streams (issue 3; bench/streams.sh runs them against socat, Python asyncio and Node.js):
          echo-server --impl meanwhile|socket [--port P] [--port-file F] [--buffer B]
                 a TCP echo server on 127.0.0.1 (Meanwhile on one loop, or a plain .NET Socket async/await one); runs until killed.
          echo-client --port P [--mode pingpong|stream] [--connections C] [--size S] [--seconds T] [--warmup W] [--runs R]
                      [--server-pid PID] [--label L]
                 pingpong: C connections each sending an S-byte message and awaiting its echo (messages/s);
                 stream: C connections each streaming S-byte blocks while reading the echo (MB/s); median of R windows.
          idle-server --impl meanwhile|socket [--count N] [--port-file F]
                 accepts N connections, each held by a task awaiting a zero-byte read; prints RSS and managed heap per connection.
          idle-client --port P [--count N]
                 opens N connections and holds them until the server closes them.
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            var options = Options.Parse(args.AsSpan(1));
            return args[0] switch
            {
                "spawn" => SpawnBenchmark.Run(options),
                "sleeps" => SleepsBenchmark.Run(options),
                "idle" => IdleBenchmark.Run(options),
                "deadlines" => DeadlinesBenchmark.Run(options),
                "queue" => CoordinationBenchmark.Queue(options),
                "lock" => CoordinationBenchmark.Lock(options),
                "waiters" => CoordinationBenchmark.Waiters(options),
                "echo-server" => EchoBenchmark.Server(options),
                "echo-client" => EchoBenchmark.Client(options),
                "idle-server" => IdleConnectionsBenchmark.Server(options),
                "idle-client" => IdleConnectionsBenchmark.Client(options),
                _ => throw new ArgumentException($"unknown command '{args[0]}'"),
            };
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"Meanwhile.Benchmarks: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }
}

/// <summary>Plain "--name value" / "--flag" parsing; every option is validated by the command that reads it.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public static Options Parse(ReadOnlySpan<string> args)
    {
        var options = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{arg}'");
            string name = arg[2..];
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) value = args[++i];
            options._values[name] = value;
        }
        return options;
    }

    public bool Flag(string name)
    {
        _read.Add(name);
        if (!_values.TryGetValue(name, out var value)) return false;
        if (value is not null) throw new ArgumentException($"--{name} takes no value (got '{value}')");
        return true;
    }

    public string? Text(string name)
    {
        _read.Add(name);
        if (!_values.TryGetValue(name, out var value)) return null;
        return value ?? throw new ArgumentException($"--{name} needs a value");
    }

    public long Integer(string name, long defaultValue, long min)
    {
        _read.Add(name);
        if (!_values.TryGetValue(name, out var text)) return defaultValue;
        // Accept 1000000, 1_000_000 and 1e6.
        text = text?.Replace("_", "", StringComparison.Ordinal);
        if (text is null) throw new ArgumentException($"--{name} needs a number");
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || d != Math.Floor(d) || d > long.MaxValue)
                throw new ArgumentException($"--{name} must be a whole number (got '{text}')");
            value = (long)d;
        }
        if (value < min) throw new ArgumentException($"--{name} must be at least {min} (got {value})");
        return value;
    }

    public double Number(string name, double defaultValue, double min)
    {
        _read.Add(name);
        if (!_values.TryGetValue(name, out var text)) return defaultValue;
        if (text is null || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            throw new ArgumentException($"--{name} must be a number (got '{text}')");
        if (value < min) throw new ArgumentException($"--{name} must be at least {min} (got {value})");
        return value;
    }

    public string Choice(string name, string defaultValue, params string[] allowed)
    {
        _read.Add(name);
        if (!_values.TryGetValue(name, out var text)) return defaultValue;
        if (text is null || Array.IndexOf(allowed, text) < 0)
            throw new ArgumentException($"--{name} must be one of {string.Join(", ", allowed)} (got '{text}')");
        return text;
    }

    /// <summary>Call after reading every option: rejects the ones the command does not know.</summary>
    public void RejectUnknown()
    {
        foreach (var name in _values.Keys)
            if (!_read.Contains(name)) throw new ArgumentException($"unknown option --{name}");
    }
}

/// <summary>Process-level measurements shared by the commands.</summary>
internal static class Measure
{
    /// <summary>Peak resident set size (VmHWM) in bytes, or -1 where /proc is not available.</summary>
    public static long PeakRssBytes() => ReadStatusKilobytes("VmHWM:");

    /// <summary>Current resident set size (VmRSS) in bytes, or -1.</summary>
    public static long RssBytes() => ReadStatusKilobytes("VmRSS:");

    /// <summary>
    /// Minor page faults of the process so far (field 10 of /proc/self/stat), or -1. On a VM where a fault costs
    /// microseconds (bench/gc/pagefault.c) they tell how much of a run went to the GC giving memory back and taking it again.
    /// </summary>
    public static long MinorFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            // The command name (field 2) may hold spaces: count fields after its closing parenthesis (field 3 is the state).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[10 - 3], CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }

    private static long ReadStatusKilobytes(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
                var parts = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }

    public static double Seconds(long startTimestamp, long endTimestamp) =>
        (endTimestamp - startTimestamp) / (double)Stopwatch.Frequency;

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    public static double Megabytes(long bytes) => bytes < 0 ? -1 : bytes / (1024.0 * 1024.0);
}

/// <summary>A tiny JSON object writer (numbers, strings, number arrays), enough for the runner script.</summary>
internal sealed class Json
{
    private readonly StringBuilder _text = new("{");

    public Json Add(string name, string value)
    {
        Name(name);
        _text.Append('"').Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
        return this;
    }

    public Json Add(string name, double value)
    {
        Name(name);
        _text.Append(Format(value));
        return this;
    }

    public Json Add(string name, IEnumerable<double> values)
    {
        Name(name);
        _text.Append('[').AppendJoin(',', values.Select(Format)).Append(']');
        return this;
    }

    private static string Format(double value) =>
        double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "null";

    private void Name(string name)
    {
        if (_text.Length > 1) _text.Append(',');
        _text.Append('"').Append(name).Append("\":");
    }

    public override string ToString() => _text.ToString() + "}";
}
