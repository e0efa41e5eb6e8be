using System.Runtime.CompilerServices;

namespace Meanwhile;

// A turn of the loop: what was posted, due timers, the ready items, then the reactor when it must be asked.
public sealed partial class EventLoop
{
    /// <summary>How many ready items may run, at most, between two polls of the reactor while work stays ready.</summary>
    private const int EventInterval = 256;

    private int _runSincePoll; // ready items run since the reactor was last polled
    private bool _itemContextLeft; // see RestoreRootContext

    /// <summary>
    /// Runs turns until <paramref name="main"/> completes or the loop is stopped; with <paramref name="unwinding"/>, until
    /// no task is left or the grace period has expired. A flag rather than a delegate: the test runs every turn, and a
    /// hand-off between two tasks is a turn per operation.
    /// </summary>
    private void RunUntil(LoopTask main, bool unwinding)
    {
        while (!RunTurns(main, unwinding))
        {
            RestoreRootContext();
            int timeout = ComputePollTimeout();
            _runSincePoll = 0;
            _monitor?.BeforePoll();
            _poller.Poll(timeout);
        }
        RestoreRootContext();
    }

    /// <summary>
    /// Runs turns (what was posted, due timers, then the ready items) until the run is done (true) or the reactor is to be
    /// asked (false). The ready items run here rather than in a method of their own: two tasks handing a lock back and
    /// forth run one item a turn, and a call per turn (its handler keeps it from being inlined) costs them ~20
    /// instructions per hand-off.
    /// </summary>
    private bool RunTurns(LoopTask main, bool unwinding)
    {
        while (true)
        {
            BeginTurn();
            DrainPosted();
            FireDueTimers();
            // Only what was ready when the turn began: work queued now waits for the next turn, so a task that keeps
            // yielding cannot starve the others, nor, within EventInterval items, timers and I/O.
            int ran = _ready.Count;
            var monitor = _monitor; // diagnostics: null when off, so each hook below costs a register test
            monitor?.BeginBatch();
            for (int count = ran; count > 0; count--)
            {
                var item = _ready.Dequeue();
                var owner = item.ResumedTask;
                if (owner is { IsAbandoned: true })
                {
                    ReportDroppedContinuation(owner); // given up at the end of an earlier run: its code never runs again
                    continue;
                }
                // Run it under its task's context (or the loop's): awaits capture it, and it tells who is running. A
                // task's first run has no owner but runs in the task's own context, installed here once (Start relies on it).
                SynchronizationContext.SetSynchronizationContext(owner is not null ? owner.Context
                    : item.Kind == ReadyItem.ItemKind.Task ? Unsafe.As<LoopTask>(item.Target).Context : _rootContext);
                _loopAwaiterId = 0; // no task has id 0
                monitor?.BeginItem(item);
                try
                {
                    // The usual items, an async method resumed by a switch or by a hand-off, without the jump table of Invoke.
                    if (item.Kind == ReadyItem.ItemKind.AsyncMethod) AsyncMethodContinuation!(item.State);
                    else if (item.Kind == ReadyItem.ItemKind.Permit) Unsafe.As<PermitWaiter>(item.Target).RunContinuation();
                    else item.Invoke();
                }
                catch (Exception e)
                {
                    ReportError(e, "a callback on the loop threw", owner);
                }
                // The usual end of a task's turn, its method suspended on a loop await, needs nothing more: checked here
                // inline, as the rest (a finished task, a foreign await) sits in a method with a handler, which is never inlined.
                if (owner is not null && !(_loopAwaiterId == owner.Id && owner.IsSuspendedOnLoopAwait)) AfterTaskTurn(owner);
                monitor?.EndItem();
                if (_unstampedDelayCount != 0) StampDelays(); // a delay's clock starts no later than the end of the turn that armed it
            }
            // The last item's context stays installed until loop code runs outside the ready queue (RestoreRootContext):
            // when the next turn starts at once with more items, as when two tasks hand work back and forth, it is
            // replaced there anyway, and a thread-local write with a GC write barrier per turn is saved.
            if (ran > 0) _itemContextLeft = true;
            _runSincePoll += ran;
            if (unwinding ? _liveTasks == 0 || _graceExpired : main.IsCompleted || _stopRequested) return true;
            // With work still ready, the reactor is asked (without blocking) only once EventInterval items have run since
            // it last was: a system call per turn would otherwise be most of the cost of tasks that hand work to each
            // other a little at a time. Tokio's scheduler polls its driver every 61 tasks for the same reason. (With work
            // ready the poll's timeout is 0, so that turn needs no computing it: two tasks handing a lock back and forth
            // run one item a turn.) A reactor that watches nothing could only report a wake-up, and posted work shows
            // through _wakePending without one: it is not asked at all.
            if (_ready.Count == 0) return false;
            if (_runSincePoll < EventInterval) continue;
            if (_poller.HasSources) return false;
            _runSincePoll = 0;
        }
    }

    /// <summary>
    /// Installs the loop's own context again if <see cref="RunTurns"/> left an item's installed: before the loop runs
    /// anything outside a ready item (timers, the reactor's callbacks, the end of a run), which must not look as if it ran
    /// in that item's task.
    /// </summary>
    private void RestoreRootContext()
    {
        if (!_itemContextLeft) return;
        _itemContextLeft = false;
        SynchronizationContext.SetSynchronizationContext(_rootContext);
    }

    private void AfterTaskTurn(LoopTask owner)
    {
        try
        {
            owner.AfterTurn();
        }
        catch (Exception e)
        {
            ReportError(e, "finishing a task threw", owner);
        }
    }

    /// <summary>
    /// Notes that <paramref name="task"/>'s code registered an await that the loop will resume under that task (its own
    /// yield, a loop wait it started, a join): <see cref="LoopTask.AfterTurn"/> then needs no runtime continuation.
    /// </summary>
    internal void NoteLoopAwait(LoopTask? task) => NoteLoopAwait(task, SynchronizationContext.Current);

    /// <summary><see cref="NoteLoopAwait(LoopTask?)"/> when the caller has already read the current context.</summary>
    internal void NoteLoopAwait(LoopTask? task, SynchronizationContext? current)
    {
        if (task is not null && ReferenceEquals(current, task.Context)) _loopAwaiterId = task.Id;
    }

    /// <summary>
    /// <see cref="NoteLoopAwait(LoopTask?)"/> for an await that the loop resumes in <paramref name="task"/> whatever code
    /// registered it (the task's own yield): no need to check that the task is the one running.
    /// </summary>
    internal void NoteOwnLoopAwait(LoopTask task) => _loopAwaiterId = task.Id;

    /// <summary>Whether the last await registered in this turn of <paramref name="task"/> is one the loop resumes.</summary>
    internal bool ResumesThroughLoop(LoopTask task) => _loopAwaiterId == task.Id;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void DrainPosted()
    {
        // A poster sets the flag after it enqueued (and wakes the loop if it was the one to set it): with the flag clear
        // there is nothing to take, and reading the flag costs less than looking into the queue, every turn. Clearing it
        // is a full fence, so a post that finds it still set is one this drain will see.
        if (Volatile.Read(ref _wakePending) != 0) DrainPostedNow();
    }

    private void DrainPostedNow()
    {
        Interlocked.Exchange(ref _wakePending, 0);
        // Bounded, so other threads posting without pause cannot keep the loop from its own work.
        int taken = 0;
        for (; taken < 65536 && _posted.TryDequeue(out var item); taken++) _ready.Enqueue(item);
        if (taken == 65536)
        {
            // More may wait: look again next turn. The flag makes posters skip their wake-up, so the loop wakes itself,
            // or it could block in the poller with items queued (the queue may look empty now and fill a moment later).
            Volatile.Write(ref _wakePending, 1);
            WakeReactor();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FireDueTimers()
    {
        // Inline, so that a turn with no timers pays two field tests.
        if (_unstampedDelayCount != 0 || !Timers.IsEmpty) FireDueTimersNow();
    }

    private void FireDueTimersNow()
    {
        if (_unstampedDelayCount != 0) StampDelays(); // delays armed outside a task turn (before the loop ran)
        if (Timers.IsEmpty) return;
        long now = _time.GetTimestamp();
        while (Timers.PopDue(now) is { } timer)
        {
            RestoreRootContext();
            timer.Fire();
        }
    }

    private int ComputePollTimeout()
    {
        if (_ready.Count > 0 || !_posted.IsEmpty) return 0;
        StampDelays();
        long? next = Timers.IsEmpty ? null : Timers.NextDeadline;
        if (_virtualClock is not null)
        {
            if (_virtualClock.NextTimerDue is long clockTimer && (next is null || clockTimer < next)) next = clockTimer;
            if (next is null) return -1;
            if (_virtualClock.AutoAdvance && ExternalWaits == 0)
            {
                _virtualClock.AdvanceTo(next.Value); // every task waits on time only: jump
                return 0;
            }
            // Virtual time moves only when someone advances it (which wakes us) or when the outside world answers.
            return next <= _virtualClock.GetTimestamp() ? 0 : -1;
        }
        if (next is null) return -1;
        long remaining = next.Value - _time.GetTimestamp();
        if (remaining <= 0) return 0;
        // Round up: the reactor must not wake before the deadline (timers never fire early anyway).
        Int128 milliseconds = ((Int128)remaining * 1000 + _time.TimestampFrequency - 1) / _time.TimestampFrequency;
        return milliseconds > int.MaxValue ? int.MaxValue : (int)milliseconds;
    }
}
