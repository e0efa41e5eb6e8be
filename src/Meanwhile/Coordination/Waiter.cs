using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>
/// A task waiting on a coordination primitive (a queue, an event, a barrier; locks and semaphores have their own
/// <see cref="PermitWaiter"/>): a node of the primitive's first-come first-served list, and the loop wait its task
/// awaits. Being a <see cref="LoopWait"/>, it shows in introspection and ends when its task or a scope around it is
/// cancelled, with no token. The primitive keeps a few spare nodes, so waiting warm allocates nothing.
/// </summary>
/// <remarks>
/// A wait the primitive has granted (an item handed over, the lock passed on) whose task is cancelled before it resumed
/// is taken back: the primitive gives what it granted to the next waiter, or keeps it, and the task sees
/// <see cref="OperationCanceledException"/>. So a cancelled getter never swallows an item. A token passed to the call
/// ends only a wait still pending (once granted, the grant stands), as with any .NET API.
/// </remarks>
internal class Waiter : LoopWait, IValueTaskSource
{
    internal readonly IWaiterHost Host;
    internal Waiter? Next;     // in the host's list of waiters, or its spares
    internal Waiter? Previous;
    internal WaitKind Kind;

    internal Waiter(EventLoop loop, IWaiterHost host) : base(loop) => Host = host;

    public override WaitReason Reason => Host.ReasonFor(this);

    /// <summary>Starts the wait for <paramref name="owner"/>; false if it ended at once (the task or token was cancelled already).</summary>
    internal bool Start(CancellationToken token, LoopTask? owner) => Begin(token, owner);

    internal void Grant() => CompleteSuccess();

    internal void Fail(Exception error) => CompleteError(error);

    internal ValueTask AsTask() => AsValueTask();

    protected override void OnCanceling() => Host.Unlink(this);

    public override void CancelFromOwner(LoopTask owner)
    {
        if (IsPending) base.CancelFromOwner(owner);
        else if (IsGranted && Host.TryGiveBack(this)) RevokeGrant(owner.Token);
    }

    void IValueTaskSource.GetResult(short token)
    {
        if (token != Version || IsPending)
        {
            GetResult(token); // throws: awaited twice, or not finished
            return;
        }
        if (IsGranted)
        {
            GetResult(token); // succeeded: cannot throw, and the usual path stays free of a try/finally
            Host.Recycle(this);
            return;
        }
        try
        {
            GetResult(token);
        }
        finally
        {
            Host.Recycle(this);
        }
    }
}

/// <summary>A waiter that carries a value: the item a getter receives or a putter offers, a barrier's arrival index.</summary>
internal sealed class ItemWaiter<T> : Waiter, IValueTaskSource<T>
{
    internal T Item = default!;

    internal ItemWaiter(EventLoop loop, IWaiterHost host) : base(loop, host) { }

    internal ValueTask<T> AsItemTask() => new(this, Version);

    T IValueTaskSource<T>.GetResult(short token)
    {
        if (token != Version || IsPending)
        {
            GetResult(token); // throws: awaited twice, or not finished
            return default!;
        }
        T item = Item;
        Item = default!;
        try
        {
            GetResult(token); // throws if cancelled or failed; a revoked item was given back already
        }
        finally
        {
            Host.Recycle(this);
        }
        return item;
    }
}

/// <summary>What a coordination primitive does for the waiters in its list.</summary>
internal interface IWaiterHost
{
    /// <summary>What <paramref name="waiter"/> waits for, as introspection shows it.</summary>
    WaitReason ReasonFor(Waiter waiter);

    /// <summary>A pending waiter was cancelled: take it out of the list.</summary>
    void Unlink(Waiter waiter);

    /// <summary>
    /// A granted waiter's task was cancelled before it resumed: give back what it was granted (to the next waiter, or
    /// keep it) and return true; false if the grant cannot be taken back (a put that happened, a barrier that tripped).
    /// </summary>
    bool TryGiveBack(Waiter waiter);

    /// <summary>The task took its result: the node may serve another wait.</summary>
    void Recycle(Waiter waiter);
}
