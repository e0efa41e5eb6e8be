namespace Meanwhile.Http.Client;

/// <summary>
/// What the parts of a <see cref="LoopHttpClient"/> share, passed down to them instead of the client itself: the loop,
/// the options, the timeouts as deadline queues, the pool of head writers, the closes to wait for, timeline marks.
/// It knows none of the parts, so nothing below the client points back up to it.
/// </summary>
/// <remarks>Loop thread only.</remarks>
internal sealed class ClientContext
{
    private readonly Stack<PooledByteBuffer> _writers = new();
    private readonly List<Task> _closing = [];

    public ClientContext(EventLoop loop, LoopHttpClientOptions options)
    {
        Loop = loop;
        Options = options;
        RequestTimeout = QueueFor(options.RequestTimeout);
        ConnectTimeout = QueueFor(options.ConnectTimeout);
        ResponseHeadersTimeout = QueueFor(options.ResponseHeadersTimeout);
    }

    public EventLoop Loop { get; }

    public LoopHttpClientOptions Options { get; }

    /// <summary>The whole-request timeout of every exchange; null when none is set.</summary>
    public DeadlineQueue? RequestTimeout { get; }

    /// <summary>The timeout of opening a connection (TCP and TLS); null when none is set.</summary>
    public DeadlineQueue? ConnectTimeout { get; }

    /// <summary>The timeout from a request's head being sent to its response head; null when none is set.</summary>
    public DeadlineQueue? ResponseHeadersTimeout { get; }

    private DeadlineQueue? QueueFor(TimeSpan? timeout) => timeout is { } t && t > TimeSpan.Zero ? new DeadlineQueue(Loop, t) : null;

    /// <summary>A writer for a request head, from the pool.</summary>
    public PooledByteBuffer RentWriter() => _writers.TryPop(out var pooled) ? pooled : new PooledByteBuffer(1024);

    /// <summary>Gives a head writer back, its array with it (a client waiting for answers holds none).</summary>
    public void ReturnWriter(PooledByteBuffer writer)
    {
        writer.Release();
        _writers.Push(writer);
    }

    /// <summary>Keeps a connection's close so <see cref="WhenClosedAsync"/> can wait for it.</summary>
    public void TrackClose(Task close)
    {
        if (close.IsCompleted) return;
        if (_closing.Count >= 64) _closing.RemoveAll(static t => t.IsCompleted);
        _closing.Add(close);
    }

    /// <summary>Completes when every connection closed so far is really gone.</summary>
    public async Task WhenClosedAsync()
    {
        await Task.WhenAll(_closing);
        _closing.Clear();
    }

    /// <summary>Records a step of an exchange for timelines (<see cref="ClientMarks"/>); one field test when not recording.</summary>
    public void Mark(string label)
    {
        if (Loop.Recorder.IsEnabled) Loop.Recorder.Mark(label);
    }
}
