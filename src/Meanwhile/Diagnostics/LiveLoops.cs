namespace Meanwhile;

/// <summary>
/// The process's loops, for what looks at all of them from another thread: the <c>Meanwhile.Loop</c> metrics and the
/// diagnostics endpoint. Weak references, so a loop that was never disposed can still be collected.
/// </summary>
internal static class LiveLoops
{
    private static readonly Lock Gate = new();
    private static readonly List<WeakReference<EventLoop>> Loops = new();
    private static int s_lastId;

    public static int NextId() => Interlocked.Increment(ref s_lastId);

    public static void Add(EventLoop loop)
    {
        LoopMeter.EnsureCreated();
        lock (Gate)
        {
            if (Loops.Count >= 16 && Loops.Count == Loops.Capacity) Loops.RemoveAll(static w => !w.TryGetTarget(out _));
            Loops.Add(new WeakReference<EventLoop>(loop));
        }
    }

    public static void Remove(EventLoop loop)
    {
        lock (Gate) Loops.RemoveAll(w => !w.TryGetTarget(out var other) || ReferenceEquals(other, loop));
    }

    /// <summary>The loops alive now; only those with diagnostics on if <paramref name="withDiagnostics"/>.</summary>
    public static List<EventLoop> Snapshot(bool withDiagnostics)
    {
        var loops = new List<EventLoop>();
        lock (Gate)
        {
            foreach (var weak in Loops)
                if (weak.TryGetTarget(out var loop) && (!withDiagnostics || loop.IsDiagnosticsEnabled)) loops.Add(loop);
        }
        return loops;
    }
}
