using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Meanwhile;

public sealed partial class EventLoop
{
    private readonly LoopMonitor? _monitor; // diagnostics on: the loop times its turns
    private long _turnCount;
    private LagProbe? _lagProbe;
    private List<SnapshotFigure>? _figures;
    private KeyValuePair<string, object?>[]? _metricTags;

    /// <summary>The loop's id, unique in its process: how diagnostics and metrics (<c>meanwhile.loop.id</c>) tell loops apart.</summary>
    public int Id { get; } = LiveLoops.NextId();

    /// <summary>The loop's name in diagnostics and metrics (<see cref="EventLoopOptions.Name"/>).</summary>
    public string Name { get; private set; } = "";

    /// <summary>Whether the loop measures its tasks and turns, and shows on the diagnostics endpoint (<see cref="EventLoopOptions.Diagnostics"/>).</summary>
    public bool IsDiagnosticsEnabled => _monitor is not null;

    /// <summary>
    /// Takes a snapshot of the loop: its figures and its live tasks, each with its state, what it waits on and, with
    /// diagnostics on, its times and turns. This is what <c>meanwhile ps</c> shows for a loop.
    /// </summary>
    /// <param name="maxTasks">At most this many tasks are listed; <see cref="LoopSnapshot.TasksOmitted"/> counts the rest.</param>
    public LoopSnapshot TakeSnapshot(int maxTasks = 1000)
    {
        CheckThread();
        ArgumentOutOfRangeException.ThrowIfNegative(maxTasks);
        return SnapshotBuilder.Take(this, maxTasks, onLoop: true, lag: null);
    }

    /// <summary>
    /// Adds a figure to this loop's snapshots (<see cref="LoopSnapshot.Figures"/>), read on the loop thread whenever one
    /// is taken: an HTTP server adds its connections and requests, which <c>meanwhile top</c> shows per loop.
    /// </summary>
    /// <param name="name">The figure's name (a later figure of the same name replaces it in snapshots).</param>
    /// <param name="read">Reads the figure, on the loop thread.</param>
    /// <returns>Removes the figure when disposed (on the loop thread).</returns>
    public IDisposable AddSnapshotFigure(string name, Func<long> read)
    {
        CheckThread();
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(read);
        var figure = new SnapshotFigure(this, name, read);
        (_figures ??= new List<SnapshotFigure>()).Add(figure);
        return figure;
    }

    internal Dictionary<string, long> ReadSnapshotFigures()
    {
        var figures = new Dictionary<string, long>();
        if (_figures is null) return figures;
        foreach (var figure in _figures)
        {
            try { figures[figure.Name] = figure.Read(); }
            catch (Exception e) { ReportError(e, $"reading the snapshot figure '{figure.Name}' threw", null); }
        }
        return figures;
    }

    internal LoopMonitor? Monitor => _monitor;

    /// <summary>The tags of this loop's metric series (made on first use: most loops are never measured).</summary>
    internal KeyValuePair<string, object?>[] MetricTags => _metricTags ??=
    [
        new("meanwhile.loop.id", Id),
        new("meanwhile.loop.name", Name),
    ];

    // Read by the metrics and the endpoint from other threads: each is one aligned field, so a read is whole, if not fresh.
    internal long TurnCount => Volatile.Read(ref _turnCount);
    internal int ReadyCount => _ready.Count;
    internal int TimerCount => Timers.Count;
    internal int LiveTaskCount => _liveTasks;
    internal long SpawnedTaskCount => _nextTaskId;
    internal int? RegistrationCount => _poller.RegistrationCount;

    /// <summary>How long until <paramref name="deadline"/> (loop clock ticks), on the loop's clock.</summary>
    internal TimeSpan UntilDeadline(long deadline)
    {
        long now = _time.GetTimestamp();
        if (deadline == long.MaxValue) return TimeSpan.MaxValue;
        return TimeSpan.FromSeconds((double)(deadline - now) / _time.TimestampFrequency);
    }

    private LoopMonitor? SetUpDiagnostics(EventLoopOptions options)
    {
        Name = options.Name ?? Thread.CurrentThread.Name ?? $"loop {Id}";
        LiveLoops.Add(this);
        if (!(options.Diagnostics ?? DiagnosticsEndpoint.RequestedByEnvironment)) return null;
        var monitor = new LoopMonitor(this, options.SlowTurnThreshold, options.LoggerFactory);
        _ready.Monitor = monitor;
        DiagnosticsEndpoint.EnsureStarted();
        return monitor;
    }

    /// <summary>
    /// A turn begins: it is counted, and a lag probe starts if someone now listens for lag; here rather than before the
    /// poll, so that the poll's timeout is computed with the probe's timer armed (else an idle loop would sleep past it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BeginTurn()
    {
        _turnCount++;
        if (_lagProbe is null && LagProbe.IsWanted) StartLagProbe();
    }

    private void StartLagProbe()
    {
        RestoreRootContext();
        _lagProbe = LagProbe.Start(this);
    }

    /// <summary>The lag probe stopped (nobody listens any more); a later listener starts another.</summary>
    internal void OnLagProbeStopped() => _lagProbe = null;

    /// <summary>A figure added with <see cref="AddSnapshotFigure"/>.</summary>
    private sealed class SnapshotFigure(EventLoop loop, string name, Func<long> read) : IDisposable
    {
        public string Name => name;

        public long Read() => read();

        public void Dispose()
        {
            loop.CheckThread();
            loop._figures?.Remove(this);
        }
    }
}
