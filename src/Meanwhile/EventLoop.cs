using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// An event loop: one thread that runs tasks (ordinary <c>async</c> methods) from a FIFO ready queue,
/// fires timers from a timer queue, and between turns blocks in its reactor (epoll on Linux) until I/O is
/// ready, a timer is due or another thread posts work. While a task waits for a stream, a timer or a worker,
/// it costs nothing: the loop runs the others.
/// </summary>
/// <remarks>
/// <para>
/// Every member is for the loop's own thread (the thread that created it) except <see cref="Post(Action)"/>,
/// which any thread may call; the others throw <see cref="InvalidOperationException"/> from a foreign thread.
/// </para>
/// <para>
/// While the loop runs, its <see cref="SynchronizationContext"/> is installed on its thread, so every
/// <c>await</c> in loop code resumes on the loop thread. <c>ConfigureAwait(false)</c> changes nothing for the
/// loop's own operations (delays, I/O, other loop tasks always resume on the loop); on an ordinary
/// <see cref="Task"/> that completes on another thread (thread-pool I/O, a <see cref="Task.Run(Action)"/>)
/// it lets the rest of the method run on that other thread, where loop APIs throw. Do not use it in loop code.
/// </para>
/// </remarks>
public sealed partial class EventLoop : IDisposable
{
    [ThreadStatic] private static EventLoop? s_running;

    private readonly int _ownerThreadId;
    private readonly ReadyQueue _ready = new();
    private readonly ConcurrentQueue<ReadyItem> _posted = new();
    private readonly PlatformBackend _platform;
    private readonly Poller _poller;
    private readonly TimeProvider _time;
    private readonly VirtualClock? _virtualClock;
    private readonly long _clockTicksPerTimeSpanTick; // 0 unless the clock's frequency is a multiple of TimeSpan's
    private readonly LoopSynchronizationContext _rootContext;

    /// <summary>
    /// <see cref="LoopWait.AsyncMethodContinuation"/>, read through the loop by the two ends of every switch (a task's yield
    /// and the ready queue), which hold the loop already: a field load rather than a check that the static is initialized.
    /// </summary>
    internal readonly Action<object?>? AsyncMethodContinuation = LoopWait.AsyncMethodContinuation;
    private readonly Action<LoopError>? _onError;
    private readonly List<UnobservedFault> _unobserved = new(); // until observed or reported: the sweep at the end of a run reports the rest
    private RootScope _root;
    private int _wakePending;
    private int _loopAwaiterId; // see NoteLoopAwait: the task's id, not the task, so that noting it needs no GC write barrier
    private int _nextTaskId;
    private int _liveTasks;
    private bool _running;
    private bool _stopRequested;
    private readonly TimeSpan _gracePeriod;
    private bool _graceExpired;
    private volatile bool _disposed;

    internal readonly TimerQueue Timers;

    /// <summary>How many delays at most wait for a shared clock reading (see <see cref="ArmDelay"/>): a bound on their lateness.</summary>
    private const int DelayStampBatch = 16;
    private readonly UnstampedDelay[] _unstampedDelays = new UnstampedDelay[DelayStampBatch];
    private int _unstampedDelayCount;
    private int _delaysSinceReading; // delays armed since the clock was last read for them, batched ones included
    private DelayBatch? _openBatch;  // the batch the next plain delay may join (see ArmBatchedDelay)
    private bool _openBatchUnstamped; // it waits for the turn's clock reading (else it is in the timer queue, or done)
    private readonly long _delayBatchWindow; // how much later than a batch's first deadline a delay may join it: 1 ms on the system clock
    private readonly bool _stampsDelaysInBatches; // on the system clock only

    /// <summary>A delay armed for <see cref="Ticks"/> clock ticks, its deadline not yet set.</summary>
    private readonly record struct UnstampedDelay(TimerEntry Timer, long Ticks);

    /// <summary>Waits on the outside world (I/O, workers) now pending: while any is, a virtual clock does not jump.</summary>
    internal int ExternalWaits;

    /// <summary>Creates a loop owned by the calling thread.</summary>
    /// <param name="options">How to set it up; null for the defaults.</param>
    public EventLoop(EventLoopOptions? options = null)
    {
        options ??= new EventLoopOptions();
        _ownerThreadId = Environment.CurrentManagedThreadId;
        _time = options.TimeProvider ?? TimeProvider.System;
        _virtualClock = _time as VirtualClock;
        _stampsDelaysInBatches = ReferenceEquals(_time, TimeProvider.System);
        Timers = new TimerQueue(this);
        long frequency = _time.TimestampFrequency;
        _clockTicksPerTimeSpanTick = frequency % TimeSpan.TicksPerSecond == 0 ? frequency / TimeSpan.TicksPerSecond : 0;
        _delayBatchWindow = _stampsDelaysInBatches ? frequency / 1000 : 0;
        _onError = options.OnError;
        _gracePeriod = options.ShutdownGracePeriod;
        NoteBaselineContext();
        _root = new RootScope(this);
        _rootContext = new LoopSynchronizationContext(this, null);
        Scheduler = new LoopTaskScheduler(this);
        Recorder = new LoopEventRecorder(this);
        _platform = options.Backend?.Invoke(this) ?? PlatformBackend.Create(this, options.Reactor);
        _poller = _platform.Poller;
        if (_virtualClock is not null) _virtualClock.Advanced += OnVirtualClockAdvanced;
        _monitor = SetUpDiagnostics(options);
    }

    /// <summary>The loop running on the calling thread.</summary>
    /// <exception cref="InvalidOperationException">No loop runs on this thread.</exception>
    public static EventLoop Current => s_running ?? throw new InvalidOperationException(
        "No Meanwhile event loop is running on this thread. Start one with EventLoop.Run(...), or reach a loop from another thread with its Post method.");

    /// <summary>The loop running on the calling thread, or null.</summary>
    public static EventLoop? CurrentOrNull => s_running;

    /// <summary>Where the loop reads time (a <see cref="VirtualClock"/> in tests).</summary>
    public TimeProvider Time => _time;

    /// <summary>Records task and I/O events when enabled; see <see cref="LoopEventRecorder"/>.</summary>
    public LoopEventRecorder Recorder { get; }

    /// <summary>A <see cref="TaskScheduler"/> that runs tasks on this loop (never installed as the ambient one).</summary>
    public TaskScheduler Scheduler { get; }

    /// <summary>The platform backend in use: "epoll", "portable" or "simulated".</summary>
    public string ReactorName => _platform.Name;

    /// <summary>Whether the loop is running (inside <see cref="RunUntilComplete(Func{Task})"/>).</summary>
    public bool IsRunning => _running;

    /// <summary>Whether the calling thread is the loop's thread.</summary>
    public bool IsLoopThread => Environment.CurrentManagedThreadId == _ownerThreadId;

    internal PlatformBackend Platform => _platform;

    internal Poller Poller => _poller;

    internal CancelScope RootScope => _root;

    private void OnVirtualClockAdvanced()
    {
        if (!IsLoopThread) WakeReactor();
    }

    /// <summary>
    /// Queues <paramref name="callback"/> to run on the loop. Safe to call from any thread; wakes a sleeping loop. The
    /// callback runs in the caller's execution context (its <see cref="AsyncLocal{T}"/> values), as with
    /// <c>ThreadPool.QueueUserWorkItem</c> and asyncio's <c>call_soon_threadsafe</c>.
    /// </summary>
    /// <param name="callback">What to run on the loop thread.</param>
    /// <exception cref="ObjectDisposedException">The loop was disposed.</exception>
    public void Post(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        PostFromAnyThread(new ReadyItem(WithCallersContext(callback)));
    }

    /// <summary>Queues <paramref name="callback"/> with its <paramref name="state"/> to run on the loop, from any thread, in the caller's execution context (see <see cref="Post(Action)"/>).</summary>
    /// <param name="callback">What to run on the loop thread.</param>
    /// <param name="state">Passed to <paramref name="callback"/>.</param>
    public void Post(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        PostFromAnyThread(WithCallersContext(callback, state));
    }

    /// <summary>
    /// Runs <paramref name="callback"/> at once on the loop's thread, or posts it there from another (a token's callback
    /// fires on the thread that cancelled it); nothing if the loop is gone, as nothing waits on it any more.
    /// </summary>
    internal void RunOnLoop(Action<object?> callback, object? state)
    {
        if (IsLoopThread) callback(state);
        else
        {
            try { Post(callback, state); }
            catch (ObjectDisposedException) { /* the loop is gone; nothing waits any more */ }
        }
    }

    internal void PostFromAnyThread(in ReadyItem item)
    {
        if (_disposed) throw new ObjectDisposedException(nameof(EventLoop), "The event loop was disposed and accepts no more work.");
        if (IsLoopThread)
        {
            _ready.Enqueue(item);
            return;
        }
        _posted.Enqueue(item);
        // One wake-up per batch of posts: only the post that finds no wake pending pays for the syscall.
        if (Interlocked.Exchange(ref _wakePending, 1) == 0) WakeReactor();
    }

    private void WakeReactor()
    {
        try { _poller.Wake(); }
        catch (ObjectDisposedException) { /* the loop is being disposed; nothing to wake */ }
    }

    /// <summary>
    /// Queues <paramref name="callback"/> to run on the loop's next turn, after the work already queued, in the caller's
    /// execution context (as asyncio's <c>call_soon</c> copies the context).
    /// </summary>
    /// <param name="callback">What to run.</param>
    public void CallSoon(Action callback)
    {
        CheckThread();
        ArgumentNullException.ThrowIfNull(callback);
        _ready.Enqueue(new ReadyItem(WithCallersContext(callback)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void EnqueueReady(in ReadyItem item) => _ready.Enqueue(item);

    internal void InvokeCallback(Action callback)
    {
        try { callback(); }
        catch (Exception e) { ReportError(e, "a loop callback threw", null); }
    }

    internal int NextTaskId() => ++_nextTaskId;

    internal void OnTaskFinished(LoopTask task) => _liveTasks--;

    /// <summary>Throws unless the caller is on the loop's thread and the loop is not disposed.</summary>
    internal void CheckThread()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!IsLoopThread)
            throw new InvalidOperationException(
                $"This EventLoop belongs to thread {_ownerThreadId} but was called from thread {Environment.CurrentManagedThreadId}. " +
                "Loop methods are for the loop's own thread; from other threads use Post.");
    }

    /// <summary>
    /// <see cref="CheckThread"/> with its usual path inlined: this loop running on the calling thread is on its own thread
    /// and not disposed (a running loop cannot be). One thread-static read, fewer tests than <see cref="CheckThreadGetTask"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CheckThreadInline()
    {
        if (!ReferenceEquals(s_running, this)) CheckThread();
    }

    /// <summary>
    /// <see cref="CheckThread"/>, then the running task (<see cref="LoopTask.CurrentOn"/>), with one thread-local read on
    /// the hot path: the loop installs one of its contexts before it runs any code on its thread and never on another,
    /// so finding one of ours current already says we are on the loop thread.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal LoopTask? CheckThreadGetTask()
    {
        if (SynchronizationContext.Current is LoopSynchronizationContext context && ReferenceEquals(context.Loop, this) && !_disposed)
            return context.Task;
        return CheckThreadNoTask(); // out of line: inlined, the usual path is a thread-local read and three tests
    }

    private LoopTask? CheckThreadNoTask()
    {
        CheckThread();
        return null; // on the loop thread, under a context that is not ours: no task is known to be running
    }

    /// <summary>Reports an error nobody else can handle to the loop's handler.</summary>
    internal void ReportError(Exception exception, string message, LoopTask? task)
    {
        var error = new LoopError(exception, message, task?.Id ?? 0, task?.Name);
        if (_onError is null)
        {
            Console.Error.WriteLine($"Meanwhile: {error}");
            return;
        }
        try { _onError(error); }
        catch (Exception e) { Console.Error.WriteLine($"Meanwhile: the loop's error handler threw: {e}"); }
    }

    internal UnobservedFault.Watch TrackUnobserved(LoopTask task, Exception exception)
    {
        var fault = new UnobservedFault(this, task, exception);
        if (_unobserved.Count >= 64 && _unobserved.Count == _unobserved.Capacity)
            _unobserved.RemoveAll(static f => f.IsDone); // keep the list to faults still pending
        _unobserved.Add(fault);
        return new UnobservedFault.Watch(fault);
    }

    internal void ReportUnobserved(UnobservedFault fault)
    {
        var error = new LoopError(fault.Exception, "a task failed and nobody observed its exception", fault.TaskId, fault.TaskName);
        if (_onError is null) Console.Error.WriteLine($"Meanwhile: {error}");
        else
        {
            try { _onError(error); }
            catch (Exception e) { Console.Error.WriteLine($"Meanwhile: the loop's error handler threw: {e}"); }
        }
    }

    /// <summary>A failed task was collected while nobody had observed it (the finalizer thread): report it on the loop.</summary>
    internal void ReportUnobservedFromFinalizer(UnobservedFault fault)
    {
        if (_running && !_disposed)
        {
            try
            {
                PostFromAnyThread(new ReadyItem(static (object? s) => ((UnobservedFault)s!).ReportNow(), fault));
            }
            catch (ObjectDisposedException) { }
        }
        // Otherwise the run has ended, and its sweep reported every fault still pending: this one too.
    }

    private void SweepUnobserved()
    {
        foreach (var fault in _unobserved) fault.ReportNow();
        _unobserved.Clear();
    }

    /// <summary>Releases the reactor. Pending waits are abandoned; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (_running) throw new InvalidOperationException("The event loop cannot be disposed while it runs; call Stop and let RunUntilComplete return.");
        _disposed = true;
        LiveLoops.Remove(this);
        if (_virtualClock is not null) _virtualClock.Advanced -= OnVirtualClockAdvanced;
        _ready.Clear();
        _platform.Dispose();
    }
}

public sealed partial class EventLoop
{
    /// <summary>
    /// Starts watching a non-blocking file descriptor for readiness with the loop's reactor (epoll). The caller
    /// keeps owning the descriptor: dispose the registration, then close it.
    /// </summary>
    /// <param name="descriptor">A non-blocking descriptor: socket, pipe, FIFO, terminal, eventfd, character device.</param>
    /// <exception cref="PlatformNotSupportedException">The loop uses the portable reactor.</exception>
    /// <exception cref="SystemCallException">The kernel refused (EPERM: regular files are not pollable).</exception>
    public IoRegistration Register(int descriptor)
    {
        CheckThread();
        ArgumentOutOfRangeException.ThrowIfNegative(descriptor);
        return _poller.Register(descriptor);
    }

    /// <summary>Whether this loop's reactor can watch raw descriptors (<see cref="Register(int)"/>).</summary>
    public bool SupportsDescriptors => _poller.SupportsDescriptors;
}
