
namespace Meanwhile;

/// <summary>
/// A file descriptor watched by the loop's reactor (epoll): await <see cref="WaitReadableAsync"/> or
/// <see cref="WaitWritableAsync"/> and the task costs nothing until the kernel says the descriptor is ready.
/// Obtained from <see cref="EventLoop.Register(int)"/>; dispose it before closing the descriptor.
/// </summary>
/// <remarks>
/// Readiness is edge-triggered: after a wait completes, do the non-blocking read or write until it says
/// EAGAIN before waiting again. One reader and one writer may wait at a time. Waits may complete spuriously.
/// All members are for the loop thread.
/// </remarks>
public sealed class IoRegistration : IDisposable
{
    private readonly EventLoop _loop;
    private readonly ReadinessWait _readable;
    // Made the first time a writer has to wait: most connections never fill their send buffer, and an idle one should
    // not carry an 80-byte wait object it has never used. Until then a writability edge is remembered here.
    private ReadinessWait? _writable;
    private bool _writableEdge;
    private bool _disposed;
    private readonly bool _external;

    internal IoRegistration(EventLoop loop, int descriptor) : this(loop, descriptor, external: true) { }

    /// <param name="loop">The loop whose tasks wait.</param>
    /// <param name="descriptor">What the waits show in introspection.</param>
    /// <param name="external">
    /// Whether readiness comes from the outside world, so that a virtual clock must not jump while a task waits (true for
    /// real descriptors; false for a simulation's sockets, whose readiness the loop's own timers bring).
    /// </param>
    internal IoRegistration(EventLoop loop, int descriptor, bool external)
    {
        _loop = loop;
        Descriptor = descriptor;
        _external = external;
        _readable = new ReadinessWait(loop, this, WaitKind.Readable);
    }

    private ReadinessWait Writable
    {
        get
        {
            if (_writable is { } wait) return wait;
            if (WritableOnDemand) _loop.Poller.WatchWritable(this); // reports the descriptor at once if it is writable now
            wait = _writable = new ReadinessWait(_loop, this, WaitKind.Writable);
            if (_writableEdge)
            {
                _writableEdge = false;
                wait.Signal();
            }
            return wait;
        }
    }

    /// <summary>The watched descriptor.</summary>
    public int Descriptor { get; }

    /// <summary>The reactor's handle for this registration (its epoll token).</summary>
    internal ulong Token { get; set; }

    /// <summary>Whether the poller reports writability only after <see cref="Poller.WatchWritable"/> (the first writer's wait).</summary>
    internal bool WritableOnDemand { get; init; }

    /// <summary>Waits until the descriptor is readable (data, end of stream, or an error to collect).</summary>
    /// <param name="cancellationToken">Ends the wait early; so does cancelling the calling task.</param>
    public ValueTask WaitReadableAsync(CancellationToken cancellationToken = default)
    {
        _loop.CheckThread();
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _readable.Start(cancellationToken);
    }

    /// <summary>Waits until the descriptor is writable (room in the buffer, or an error to collect).</summary>
    /// <param name="cancellationToken">Ends the wait early; so does cancelling the calling task.</param>
    public ValueTask WaitWritableAsync(CancellationToken cancellationToken = default)
    {
        _loop.CheckThread();
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Writable.Start(cancellationToken);
    }

    /// <summary>A zero-byte read: waits until readable and completes with 0, allocating nothing.</summary>
    internal ValueTask<int> WaitReadableForZeroByteRead(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _readable.StartAsZeroResult(cancellationToken);
    }

    /// <summary>
    /// Waits until readable and completes with true; a cancellation (the token's or the calling task's) completes it with
    /// false instead of an exception. Allocates nothing.
    /// </summary>
    internal ValueTask<bool> WaitReadableUnlessCanceled(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _readable.StartQuiet(cancellationToken);
    }

    /// <summary>Whether a readability edge arrived while nobody waited (it may be stale: the data may have been read since).</summary>
    internal bool HasReadableEdge => _readable.HasRememberedEdge;

    /// <summary>Drops a remembered readability edge the caller has just found stale (a read said EAGAIN after it).</summary>
    internal void ForgetReadableEdge() => _readable.ForgetEdge();

    /// <summary>Whether a task waits for readability right now.</summary>
    internal bool IsWaitingReadable => _readable.IsPending;

    /// <summary>Whether a task waits for writability right now.</summary>
    internal bool IsWaitingWritable => _writable is { IsPending: true };

    /// <summary>
    /// Whether the kernel reported the read side closed (peer's FIN, a reset, an error). Sticky: no further edge will
    /// announce it, so a reader must not wait for one once this is set.
    /// </summary>
    internal bool ReadClosed { get; private set; }

    /// <summary>The reactor saw these readiness edges (loop thread).</summary>
    internal void OnReady(bool readable, bool writable, bool readClosed = false)
    {
        if (readClosed) ReadClosed = true;
        if (readable) _readable.Signal();
        if (writable)
        {
            if (_writable is { } wait) wait.Signal();
            else _writableEdge = true;
        }
    }

    /// <summary>Stops watching; waits in progress end with <see cref="ObjectDisposedException"/>. Does not close the descriptor.</summary>
    public void Dispose() => Dispose(descriptorClosing: false);

    /// <summary>
    /// Stops watching a descriptor the caller closes next, and that nothing else of this process shares: the close takes it
    /// out of the reactor, so the reactor need not be told (one system call fewer per connection).
    /// </summary>
    internal void DisposeBeforeClose() => Dispose(descriptorClosing: true);

    private void Dispose(bool descriptorClosing)
    {
        if (_disposed) return;
        _loop.CheckThread();
        _disposed = true;
        _loop.Poller.Deregister(this, descriptorClosing);
        // The error only for a wait in progress: closing an idle connection should not build two exceptions and their messages.
        if (_readable.IsPending) _readable.Abort(new ObjectDisposedException(nameof(IoRegistration), $"fd {Descriptor} was deregistered while a task waited on it."));
        if (_writable is { IsPending: true } writable) writable.Abort(new ObjectDisposedException(nameof(IoRegistration), $"fd {Descriptor} was deregistered while a task waited on it."));
    }

    /// <summary>One direction's readiness: an edge remembered until someone waits, and at most one waiter.</summary>
    private sealed class ReadinessWait : LoopWait
    {
        private readonly IoRegistration _registration;
        private readonly WaitKind _kind;
        private bool _ready; // an edge arrived while nobody waited

        public ReadinessWait(EventLoop loop, IoRegistration registration, WaitKind kind) : base(loop)
        {
            _registration = registration;
            _kind = kind;
        }

        public override WaitReason Reason => new(_kind, _registration.Descriptor);

        protected override bool IsExternal => _registration._external;

        public ValueTask Start(CancellationToken token)
        {
            Arm(token);
            return AsValueTask();
        }

        public ValueTask<int> StartAsZeroResult(CancellationToken token)
        {
            Arm(token);
            return AsZeroResult();
        }

        public ValueTask<bool> StartQuiet(CancellationToken token)
        {
            Arm(token, quiet: true);
            return AsSuccessResult();
        }

        private void Arm(CancellationToken token, bool quiet = false)
        {
            if (IsPending)
                throw new InvalidOperationException($"A task already waits for fd {_registration.Descriptor} to be {(_kind == WaitKind.Readable ? "readable" : "writable")}; one waiter per direction.");
            if (!(quiet ? BeginQuiet(token) : Begin(token))) return;
            if (_ready)
            {
                _ready = false;
                CompleteSuccess();
            }
        }

        public bool HasRememberedEdge => _ready;

        public void ForgetEdge() => _ready = false;

        public void Signal()
        {
            if (IsPending) CompleteSuccess();
            else _ready = true;
        }

        public void Abort(Exception error)
        {
            if (IsPending) CompleteError(error);
        }
    }
}
