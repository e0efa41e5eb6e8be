using System.Diagnostics;

namespace Meanwhile;

/// <summary>
/// The endpoint's request for one loop's snapshot: posted to the loop, taken there in one turn, and handed back to the
/// endpoint's thread. The time it waited in the loop's queue is the loop's lag as the snapshot reports it.
/// </summary>
internal sealed class SnapshotRequest : ILoopWorkItem
{
    private readonly EventLoop _loop;
    private readonly int _maxTasks;
    private readonly long _postedAt = Stopwatch.GetTimestamp();
    private readonly ManualResetEventSlim _done = new();
    private LoopSnapshot? _snapshot;
    private volatile bool _abandoned;

    private SnapshotRequest(EventLoop loop, int maxTasks)
    {
        _loop = loop;
        _maxTasks = maxTasks;
    }

    /// <summary>Posts a request to a running loop; null if it is not running (nobody would take the request up) or is gone.</summary>
    public static SnapshotRequest? Post(EventLoop loop, int maxTasks)
    {
        if (!loop.IsRunning) return null;
        var request = new SnapshotRequest(loop, maxTasks);
        try
        {
            loop.PostFromAnyThread(new ReadyItem(request));
            return request;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    public void Execute()
    {
        if (_abandoned) return; // answered from outside already
        _snapshot = SnapshotBuilder.Take(_loop, _maxTasks, onLoop: true, lag: Stopwatch.GetElapsedTime(_postedAt));
        _done.Set();
    }

    /// <summary>The loop's snapshot, or null if it did not come within <paramref name="timeout"/>.</summary>
    public LoopSnapshot? Wait(TimeSpan timeout)
    {
        if (_done.Wait(timeout)) return _snapshot;
        _abandoned = true;
        return null;
    }
}
