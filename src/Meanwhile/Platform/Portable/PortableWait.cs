namespace Meanwhile;

/// <summary>
/// A pending .NET operation of the portable backend (a child process's pipe, its exit), as the loop sees it: counted as
/// a wait on the outside world (so a virtual clock does not jump over it), recorded, and cancelled with the calling task.
/// </summary>
/// <remarks>
/// Such operations complete on .NET's threads (the thread pool on Linux and macOS) and come back through the loop's
/// context. Sockets do not: the <see cref="SelectPoller"/> sees them on the loop thread.
/// </remarks>
internal readonly struct PortableWait : IDisposable
{
    private readonly EventLoop _loop;
    private readonly LoopTask? _owner;
    private readonly CancellationTokenSource? _linked;

    private PortableWait(EventLoop loop, LoopTask? owner, CancellationTokenSource? linked)
    {
        _loop = loop;
        _owner = owner;
        _linked = linked;
    }

    /// <summary>Starts tracking an operation of the calling task.</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <param name="token">The token to give the operation: the caller's, joined with its task's.</param>
    public static PortableWait Begin(EventLoop loop, CancellationToken cancellationToken, out CancellationToken token)
    {
        var owner = LoopTask.CurrentOn(loop);
        CancellationTokenSource? linked = null;
        token = cancellationToken;
        if (owner is not null)
        {
            // The calling task's cancellation must reach the operation too.
            if (cancellationToken.CanBeCanceled)
            {
                linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, owner.Token);
                token = linked.Token;
            }
            else token = owner.Token;
        }
        loop.ExternalWaits++;
        loop.Recorder.Record(LoopEventKind.WaitStarted, owner, new WaitReason(WaitKind.Foreign, 1));
        return new PortableWait(loop, owner, linked);
    }

    public void Dispose()
    {
        _loop.ExternalWaits--;
        _loop.Recorder.Record(LoopEventKind.WaitEnded, _owner, new WaitReason(WaitKind.Foreign, 1));
        _linked?.Dispose();
    }
}
