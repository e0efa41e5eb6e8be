using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Meanwhile;

/// <summary>
/// The loop measuring itself while diagnostics are on (<see cref="EventLoopOptions.Diagnostics"/>): every item the loop
/// runs is timed, which gives each task its busy time, turns and scheduled delay (ready until run), the loop its busy
/// time, and slow turns (<see cref="EventLoopOptions.SlowTurnThreshold"/>) their report. One clock reading per item: the
/// end of one item is the start of the next. The turn running now is published for other threads, so that a task that
/// never yields shows from outside, in <c>meanwhile ps</c>, while the loop cannot answer.
/// </summary>
/// <remarks>
/// The loop calls <see cref="BeginBatch"/>, then <see cref="BeginItem"/> and <see cref="EndItem"/> around each item,
/// <see cref="BeforePoll"/> before it polls its reactor, and the ready queue calls <see cref="OnQueued"/>. All on the
/// loop thread; only <see cref="TryReadRunningTurn"/> and the counters are read from others.
/// </remarks>
internal sealed class LoopMonitor
{
    private readonly EventLoop _loop;
    private readonly long _slowTurnTicks;
    private readonly ILogger? _logger;
    private long _now;         // the last clock reading, shared by what happens until the next one
    private bool _stale = true; // the loop may have slept since _now was read
    private long _busyTicks;
    private long _slowTurns;
    private LoopTurnRecord? _lastSlowTurn;

    // The turn running now, written by the loop thread and read by others (TryReadRunningTurn). The start is written
    // last, and 0 between turns, so a reader that sees the same non-zero start before and after reading the rest has
    // read one turn's fields. Release stores only: plain moves on x86-64.
    private LoopTask? _turnTask;
    private object? _turnTarget;
    private object? _turnCode;
    private long _turnStart;

    public LoopMonitor(EventLoop loop, TimeSpan slowTurnThreshold, ILoggerFactory? loggerFactory)
    {
        _loop = loop;
        _slowTurnTicks = (long)(slowTurnThreshold.TotalSeconds * Stopwatch.Frequency);
        _logger = loggerFactory?.CreateLogger("Meanwhile.Loop");
        SlowTurnThreshold = slowTurnThreshold;
    }

    public TimeSpan SlowTurnThreshold { get; }

    /// <summary>Time the loop spent running items, in Stopwatch ticks.</summary>
    public long BusyTicks => Volatile.Read(ref _busyTicks);

    /// <summary>Turns over the threshold so far.</summary>
    public long SlowTurns => Volatile.Read(ref _slowTurns);

    /// <summary>The last slow turn, if any.</summary>
    public LoopTurnRecord? LastSlowTurn => Volatile.Read(ref _lastSlowTurn);

    /// <summary>A clock reading no older than the loop's last sleep.</summary>
    public long Now
    {
        get
        {
            if (_stale)
            {
                _now = Stopwatch.GetTimestamp();
                _stale = false;
            }
            return _now;
        }
    }

    public void BeforePoll() => _stale = true;

    /// <summary>A task was spawned: it is ready from now on (its first item has no owner, so <see cref="OnQueued"/> misses it).</summary>
    public void OnSpawned(LoopTask task)
    {
        var stats = task.AttachStats();
        stats.Work = task.DiagnosticCode;
        stats.SpawnedAt = stats.ReadySince = Now;
    }

    /// <summary>Work for <paramref name="owner"/> was queued: it is ready since now, unless it already was.</summary>
    public void OnQueued(LoopTask? owner)
    {
        // Stamped with the current turn's start: a task made ready during a turn waited for the rest of that turn too.
        if (owner?.Stats is { ReadySince: 0 } stats) stats.ReadySince = Now;
    }

    public void BeginBatch()
    {
        _now = Stopwatch.GetTimestamp();
        _stale = false;
    }

    public void BeginItem(ReadyItem item) // by value: a reference to the loop's local would keep it in memory (see EventLoop.RunTurns)
    {
        var task = item.Task;
        long start = _now;
        if (task?.Stats is { } stats && stats.ReadySince != 0)
        {
            stats.ScheduledTicks += start - stats.ReadySince;
            stats.ReadySince = 0;
        }
        Volatile.Write(ref _turnTask, task);
        Volatile.Write(ref _turnTarget, item.Target);
        Volatile.Write(ref _turnCode, CodeOf(item));
        Volatile.Write(ref _turnStart, start);
    }

    public void EndItem()
    {
        long end = Stopwatch.GetTimestamp();
        long start = _turnStart;
        var task = _turnTask;
        Volatile.Write(ref _turnStart, 0);
        _now = end;
        long duration = end - start;
        _busyTicks += duration;
        if (task?.Stats is { } stats)
        {
            stats.BusyTicks += duration;
            stats.Turns++;
            stats.LastTurnEnd = end;
            if (duration > stats.LongestTurnTicks) stats.LongestTurnTicks = duration;
        }
        if (duration >= _slowTurnTicks) ReportSlowTurn(task, duration, end);
        _turnTask = null; // nothing kept alive by an idle loop
        _turnTarget = _turnCode = null;
    }

    /// <summary>
    /// What an item will run, read before it runs (a loop wait forgets its continuation as it resumes it): the async
    /// method's box, a task's work delegate, a timer's callback; null to name the item's target instead.
    /// </summary>
    private static object? CodeOf(in ReadyItem item) => item.Kind switch
    {
        ReadyItem.ItemKind.Task => Unsafe.As<LoopTask>(item.Target).DiagnosticCode,
        ReadyItem.ItemKind.Wait => Unsafe.As<LoopWait>(item.Target).CodeToResume,
        ReadyItem.ItemKind.Permit => Unsafe.As<PermitWaiter>(item.Target).StateToResume,
        ReadyItem.ItemKind.WorkItem or ReadyItem.ItemKind.Action => null,
        _ => item.State, // a box for the runtime's continuations, a posted Action for a synchronization context
    };

    /// <summary>The method an item ran, from what <see cref="BeginItem"/> kept of it.</summary>
    internal static string? MethodOf(object? target, object? code) =>
        code is not null && AsyncMethodNames.IsCode(code) ? AsyncMethodNames.Of(code) : AsyncMethodNames.Of(target);

    /// <summary>Reads the turn running now from another thread; false between turns, or if it changed under the read.</summary>
    public bool TryReadRunningTurn(out LoopTurn turn)
    {
        for (int attempt = 0; attempt < 8; attempt++)
        {
            long start = Volatile.Read(ref _turnStart);
            if (start == 0) break;
            var task = Volatile.Read(ref _turnTask);
            var target = Volatile.Read(ref _turnTarget);
            var code = Volatile.Read(ref _turnCode);
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _turnStart) != start) continue;
            turn = new LoopTurn(task?.Id ?? 0, task?.Name, MethodOf(target, code), Stopwatch.GetElapsedTime(start), TimeSpan.Zero);
            return true;
        }
        turn = default;
        return false;
    }

    private void ReportSlowTurn(LoopTask? task, long duration, long end)
    {
        string method = MethodOf(_turnTarget, _turnCode) ?? "an unknown method";
        Volatile.Write(ref _lastSlowTurn, new LoopTurnRecord(task?.Id ?? 0, task?.Name, method, duration, end));
        _slowTurns++;
        LoopMeter.RecordSlowTurn(_loop);
        string who = task is null ? "a loop callback" : $"task #{task.Id}{(task.Name is null ? "" : $" '{task.Name}'")}";
        double milliseconds = duration * 1000.0 / Stopwatch.Frequency;
        double threshold = SlowTurnThreshold.TotalMilliseconds;
        // No logger, no line: a program's standard error is its own (a loop's first turns, compiling code, are often slow).
        if (_logger is not null) LoopLog.SlowTurn(_logger, _loop.Name, who, milliseconds, method, threshold);
    }
}

/// <summary>A turn the monitor remembers (the last slow one), in Stopwatch ticks.</summary>
internal sealed record LoopTurnRecord(int TaskId, string? TaskName, string Method, long DurationTicks, long EndedAt)
{
    public LoopTurn ToTurn(long now) =>
        new(TaskId, TaskName, Method, Stopwatch.GetElapsedTime(0, DurationTicks), Stopwatch.GetElapsedTime(EndedAt, now));
}
