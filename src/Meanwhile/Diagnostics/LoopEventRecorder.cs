using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// Records the loop's task and I/O events with timestamps, for diagrams and timelines. Off by default;
/// when off, recording an event costs one field test.
/// </summary>
/// <remarks>Used on the loop thread only.</remarks>
public sealed class LoopEventRecorder
{
    private readonly EventLoop _loop;
    private readonly List<LoopEvent> _events = new();
    private bool _enabled;
    private long _startTimestamp;

    internal LoopEventRecorder(EventLoop loop) => _loop = loop;

    /// <summary>Whether events are being recorded.</summary>
    public bool IsEnabled => _enabled;

    /// <summary>The events recorded so far, oldest first.</summary>
    public IReadOnlyList<LoopEvent> Events => _events;

    /// <summary>Starts recording (keeping what was recorded before); times count from the first start.</summary>
    public void Start()
    {
        _loop.CheckThread();
        if (_events.Count == 0) _startTimestamp = _loop.Time.GetTimestamp();
        _enabled = true;
    }

    /// <summary>Stops recording; the events stay available.</summary>
    public void Stop()
    {
        _loop.CheckThread();
        _enabled = false;
    }

    /// <summary>Forgets every recorded event.</summary>
    public void Clear()
    {
        _loop.CheckThread();
        _events.Clear();
        _startTimestamp = _loop.Time.GetTimestamp();
    }

    /// <summary>Records a label for the current task (e.g. "request sent"), if recording.</summary>
    public void Mark(string label)
    {
        _loop.CheckThread();
        if (_enabled) Add(LoopEventKind.Mark, LoopTask.CurrentOn(_loop)?.Id ?? 0, default, label);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Record(LoopEventKind kind, LoopTask? task, WaitReason reason = default, string? label = null)
    {
        if (_enabled) Add(kind, task?.Id ?? 0, reason, label);
    }

    private void Add(LoopEventKind kind, int taskId, WaitReason reason, string? label)
    {
        var elapsed = _loop.Time.GetElapsedTime(_startTimestamp);
        _events.Add(new LoopEvent(elapsed, kind, taskId, reason, label));
    }
}
