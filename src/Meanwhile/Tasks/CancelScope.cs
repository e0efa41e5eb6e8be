namespace Meanwhile;

/// <summary>
/// A node in the loop's tree of cancellation: the loop itself, every <see cref="LoopTask"/> and every
/// <see cref="TaskGroup"/>. Cancelling a scope cancels everything below it; the loop's own waits
/// (delays, I/O readiness, workers, other tasks) inside a cancelled scope end with
/// <see cref="OperationCanceledException"/> even when no token was passed to them (as in trio).
/// </summary>
/// <remarks>All members except <see cref="IsCancellationRequested"/> are for the loop thread.</remarks>
public abstract class CancelScope
{
    // The rare state (ScopeExtras), or for a task with a name and nothing else rare, just the name: a named task that
    // never hands out a token or fails (an HTTP connection's) then costs no extras object.
    private protected object? _extras;
    private volatile bool _cancelRequested;

    // Intrusive child list: attaching and detaching a task costs no allocation.
    internal CancelScope? Parent;
    private CancelScope? _firstChild;
    private CancelScope? _nextSibling;
    private CancelScope? _previousSibling;

    /// <summary>Rarely used state, made on first use so that a scope (or a task, which keeps more here) stays small.</summary>
    private protected class ScopeExtras
    {
        public CancellationTokenSource? TokenSource;
    }

    private protected virtual ScopeExtras CreateExtras() => new();

    /// <summary>The rare state if made already.</summary>
    private protected ScopeExtras? ExtrasIfAny => _extras as ScopeExtras;

    /// <summary>The rare state, made now if needed (<see cref="CreateExtras"/> takes over a name kept alone).</summary>
    private protected ScopeExtras ScopeExtrasOrNew => _extras as ScopeExtras ?? (ScopeExtras)(_extras = CreateExtras());

    private protected CancelScope(CancelScope? parent)
    {
        if (parent is not null)
        {
            Parent = parent;
            parent.AttachChild(this);
            if (parent._cancelRequested) _cancelRequested = true;
        }
    }

    /// <summary>The loop this scope belongs to.</summary>
    public abstract EventLoop Loop { get; }

    /// <summary>Whether cancellation of this scope (or of a scope above it) was requested.</summary>
    public bool IsCancellationRequested => _cancelRequested;

    /// <summary>
    /// A token cancelled with this scope, to pass to APIs outside the loop. Created on first use,
    /// so scopes that never hand out a token cost no <see cref="CancellationTokenSource"/>.
    /// </summary>
    public CancellationToken Token
    {
        get
        {
            var extras = ScopeExtrasOrNew;
            if (extras.TokenSource is null)
            {
                extras.TokenSource = new CancellationTokenSource();
                if (_cancelRequested) extras.TokenSource.Cancel();
            }
            return extras.TokenSource.Token;
        }
    }

    /// <summary>Requests cancellation of this scope and of everything inside it.</summary>
    public void Cancel()
    {
        Loop.CheckThread();
        CancelCore();
    }

    internal void CancelCore()
    {
        var cts = ExtrasIfAny?.TokenSource;
        if (_cancelRequested && (cts is null || cts.IsCancellationRequested)) return;
        _cancelRequested = true;
        if (cts is { IsCancellationRequested: false })
        {
            try { cts.Cancel(); }
            catch (Exception e) { Loop.ReportError(e, "a cancellation callback threw", this as LoopTask); }
        }
        OnCancelRequested();
        for (var child = _firstChild; child is not null;)
        {
            var next = child._nextSibling; // the child may detach itself while cancelling
            child.CancelCore();
            child = next;
        }
    }

    /// <summary>Called on the loop thread once cancellation is requested, before the children are cancelled.</summary>
    private protected virtual void OnCancelRequested() { }

    /// <summary>Leaves the tree, handing any children still alive to this scope's parent so they stay reachable.</summary>
    internal void LeaveTree()
    {
        var parent = Parent;
        for (var child = _firstChild; child is not null;)
        {
            var next = child._nextSibling;
            child.DetachFromParent();
            if (parent is not null) parent.AdoptChild(child);
            child = next;
        }
        DetachFromParent();
    }

    internal void DetachFromParent()
    {
        var parent = Parent;
        if (parent is null) return;
        if (_previousSibling is null) parent._firstChild = _nextSibling;
        else _previousSibling._nextSibling = _nextSibling;
        if (_nextSibling is not null) _nextSibling._previousSibling = _previousSibling;
        _nextSibling = _previousSibling = null;
        Parent = null;
    }

    /// <summary>Takes in a child whose parent finished (children of a plain task outlive it).</summary>
    internal void AdoptChild(CancelScope child)
    {
        child.Parent = this;
        AttachChild(child);
        if (_cancelRequested) child.CancelCore();
    }

    private void AttachChild(CancelScope child)
    {
        child._nextSibling = _firstChild;
        if (_firstChild is not null) _firstChild._previousSibling = child;
        _firstChild = child;
    }

    internal CancelScope? FirstChild => _firstChild;
    internal CancelScope? NextSibling => _nextSibling;
}

/// <summary>The loop's own scope: the parent of every task spawned outside another task.</summary>
internal sealed class RootScope : CancelScope
{
    public RootScope(EventLoop loop) : base(null) => Loop = loop;

    public override EventLoop Loop { get; }
}
