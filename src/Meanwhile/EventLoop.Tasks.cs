
namespace Meanwhile;

public sealed partial class EventLoop
{
    /// <summary>
    /// Spawns a task: <paramref name="work"/> starts on the loop's next turn (the caller keeps running until it
    /// awaits). The task is a child of the current task: cancelling the parent cancels it.
    /// </summary>
    /// <param name="work">The task's code.</param>
    /// <param name="name">A name for introspection and diagrams.</param>
    public LoopTask Spawn(Func<Task> work, string? name = null) => SpawnChecked(work, name);

    /// <summary>Spawns a task that receives its own cancellation token (see <see cref="Spawn(Func{Task}, string?)"/>).</summary>
    /// <param name="work">The task's code; the token is cancelled with the task.</param>
    /// <param name="name">A name for introspection and diagrams.</param>
    public LoopTask Spawn(Func<CancellationToken, Task> work, string? name = null) => SpawnChecked(work, name);

    /// <summary>Spawns a task that produces a value (see <see cref="Spawn(Func{Task}, string?)"/>).</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="work">The task's code.</param>
    /// <param name="name">A name for introspection and diagrams.</param>
    public LoopTask<T> Spawn<T>(Func<Task<T>> work, string? name = null) => SpawnChecked<T>(work, name);

    /// <summary>Spawns a task that produces a value and receives its own cancellation token.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="work">The task's code; the token is cancelled with the task.</param>
    /// <param name="name">A name for introspection and diagrams.</param>
    public LoopTask<T> Spawn<T>(Func<CancellationToken, Task<T>> work, string? name = null) => SpawnChecked<T>(work, name);

    private LoopTask SpawnChecked(Delegate work, string? name)
    {
        var parent = (CancelScope?)CheckThreadGetTask() ?? _root;
        ArgumentNullException.ThrowIfNull(work);
        return Schedule(new LoopTask(this, parent, work, name));
    }

    private LoopTask<T> SpawnChecked<T>(Delegate work, string? name)
    {
        var parent = (CancelScope?)CheckThreadGetTask() ?? _root;
        ArgumentNullException.ThrowIfNull(work);
        return Schedule(new LoopTask<T>(this, parent, work, name));
    }

    /// <summary>Counts a new task as live and queues its start.</summary>
    internal TTask Schedule<TTask>(TTask task) where TTask : LoopTask
    {
        _liveTasks++;
        _monitor?.OnSpawned(task);
        if (Recorder.IsEnabled) Recorder.Record(LoopEventKind.TaskSpawned, task, label: task.Name); // the name is looked up only when recorded
        _ready.Enqueue(new ReadyItem(task));
        return task;
    }

    /// <summary>Gives the other ready tasks a turn: the caller resumes on the loop's next turn.</summary>
    public ValueTask Yield()
    {
        // Inside a task the task itself is the awaitable source: yielding allocates nothing.
        if (CheckThreadGetTask() is { } task && task.TryYield(out var yield)) return yield;
        return new ValueTask(new YieldSource(this), 0);
    }

    /// <summary>Waits for <paramref name="delay"/> on the loop's own timers (no thread-pool timer involved).</summary>
    /// <param name="delay">How long; zero yields to the other tasks.</param>
    /// <param name="cancellationToken">Ends the wait early with <see cref="OperationCanceledException"/>; so does cancelling the calling task.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    /// <remarks>
    /// The delay never ends before <paramref name="delay"/> has passed since the call. It counts from a clock reading
    /// taken at the call or a little after it: delays armed together in one turn of a task share one reading, taken
    /// after up to 16 of them or when the turn ends, whichever comes first. Without a token, delays of one length armed
    /// one after the other share a timer (16 to a timer, each a slot rather than a timer object); on the system clock
    /// such a delay may end up to 1 ms later than on a timer of its own, as with tokio's and libuv's millisecond
    /// timers.
    /// </remarks>
    public ValueTask Delay(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        var owner = CheckThreadGetTask();
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        // The usual delay shares a timer with its neighbours; one with a token, one the recorder traces, or one whose
        // task is already cancelled (it ends at once) gets its own.
        if (cancellationToken.CanBeCanceled || Recorder.IsEnabled || owner is { IsCancellationRequested: true })
            return new TimerEntry(this).StartDelay(delay, owner, cancellationToken);
        return ArmBatchedDelay(ToClockTicks(delay), owner);
    }

    /// <summary>Same as <see cref="Delay"/>, named as in the seed chapter and asyncio.</summary>
    /// <param name="delay">How long.</param>
    /// <param name="cancellationToken">Ends the wait early.</param>
    public ValueTask Sleep(TimeSpan delay, CancellationToken cancellationToken = default) => Delay(delay, cancellationToken);

    /// <summary>Runs <paramref name="callback"/> on the loop after <paramref name="delay"/>, in the caller's execution context.</summary>
    /// <param name="delay">How long to wait.</param>
    /// <param name="callback">What to run.</param>
    /// <returns>A handle to cancel the callback before it runs.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public TimerHandle CallLater(TimeSpan delay, Action callback)
    {
        CheckThread();
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(callback);
        return new TimerHandle(new CallbackTimer(this, delay, WithCallersContext(callback)));
    }

    /// <summary>Sets the timer's deadline <paramref name="delay"/> from now and puts it in the timer queue.</summary>
    internal void ArmTimer(TimerEntry timer, TimeSpan delay)
    {
        // Delays armed earlier in this turn take their clock reading first, and later ones must not join a batch armed
        // before this timer: either way they would fire after it (or ahead of it) although armed before (or after).
        StampDelays();
        _openBatch = null;
        AddTimer(timer, ToClockTicks(delay), _time.GetTimestamp());
    }

    /// <summary>
    /// Arms a delay, its deadline counted from a clock reading taken now or a little later: on the system clock,
    /// delays armed in one task turn share the reading taken when the turn ends (or when <see cref="DelayStampBatch"/>
    /// of them wait). Reading the system clock is a sizeable part of arming a delay, and a reading taken after the call
    /// can only make the delay end late, never early. The lateness is the rest of the arming turn, which for the usual
    /// <c>await loop.Delay(…)</c> is the await itself.
    /// </summary>
    internal void ArmDelay(TimerEntry timer, TimeSpan delay)
    {
        long ticks = ToClockTicks(delay);
        _openBatch = null; // see ArmTimer
        // A virtual or test clock is read at once: it can be moved on within the turn, and reading it costs nothing.
        if (!_stampsDelaysInBatches)
        {
            AddTimer(timer, ticks, _time.GetTimestamp());
            return;
        }
        _unstampedDelays[_unstampedDelayCount++] = new UnstampedDelay(timer, ticks);
        if (++_delaysSinceReading == DelayStampBatch) StampDelays();
    }

    /// <summary>
    /// Arms a plain delay of <paramref name="ticks"/> in a <see cref="DelayBatch"/>: the batch armed last if nothing else
    /// was armed since (so that arming order stays firing order) and the delay's deadline is close enough to the batch's,
    /// else a new one. On the system clock that is the batch still waiting for this turn's clock reading, or one already
    /// in the timer queue whose first deadline is at most <see cref="_delayBatchWindow"/> earlier than this delay's; the
    /// batch's deadline then moves to this delay's, so a delay can end up to a millisecond late but never early (tokio
    /// and libuv round timers to the millisecond likewise). On another clock, a batch of exactly the same deadline.
    /// </summary>
    private ValueTask ArmBatchedDelay(long ticks, LoopTask? owner)
    {
        var batch = _openBatch;
        bool sameDuration = batch is not null && batch.Ticks == ticks && !batch.IsFull;
        if (_stampsDelaysInBatches)
        {
            if (sameDuration && _openBatchUnstamped)
            {
                var joined = batch!.Add(owner);
                if (++_delaysSinceReading == DelayStampBatch) StampDelays();
                return joined;
            }
            if (!sameDuration || !batch!.IsInQueue)
            {
                batch = _openBatch = new DelayBatch(this, ticks);
                _openBatchUnstamped = true;
                _unstampedDelays[_unstampedDelayCount++] = new UnstampedDelay(batch, ticks);
                var first = batch.Add(owner);
                if (++_delaysSinceReading == DelayStampBatch) StampDelays();
                return first;
            }
            // A pending batch from an earlier turn: worth a clock reading, taken now for this delay alone.
            long at = _time.GetTimestamp();
            long deadline = DeadlineAfter(at, ticks);
            if (deadline - batch.FirstDeadline <= _delayBatchWindow) Timers.Postpone(batch, deadline);
            else
            {
                batch = _openBatch = new DelayBatch(this, ticks);
                AddTimer(batch, ticks, at);
            }
            return batch.Add(owner);
        }
        long now = _time.GetTimestamp();
        if (!sameDuration || !batch!.IsInQueue || batch.Deadline != DeadlineAfter(now, ticks))
        {
            batch = _openBatch = new DelayBatch(this, ticks);
            AddTimer(batch, ticks, now);
        }
        return batch.Add(owner);
    }

    /// <summary>Gives the delays armed since the last clock reading their deadlines (a no-op if there are none).</summary>
    internal void StampDelays()
    {
        int count = _unstampedDelayCount;
        if (count == 0) return;
        _unstampedDelayCount = 0;
        _delaysSinceReading = 0;
        _openBatchUnstamped = false;
        long now = _time.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            ref var delay = ref _unstampedDelays[i];
            if (delay.Timer is not DelayBatch { IsSpent: true }) AddTimer(delay.Timer, delay.Ticks, now); // spent: its slots were all cancelled
            delay = default; // let the timer go once it fires
        }
    }

    /// <summary>Takes an armed timer out of the timer queue (cancellation).</summary>
    internal void DisarmTimer(TimerEntry timer)
    {
        StampDelays(); // the timer may still wait for its deadline
        if (timer.IsInQueue) Timers.Remove(timer);
    }

    private void AddTimer(TimerEntry timer, long ticks, long now)
    {
        timer.Deadline = DeadlineAfter(now, ticks);
        if (timer is DelayBatch batch) batch.FirstDeadline = timer.Deadline;
        Timers.Add(timer, ticks);
    }

    private static long DeadlineAfter(long now, long ticks) => ticks > long.MaxValue - now ? long.MaxValue : now + ticks;

    /// <summary>A delay in the loop clock's ticks, rounded up so that a timer can never fire before its delay has passed.</summary>
    private long ToClockTicks(TimeSpan delay)
    {
        long ticks = delay.Ticks;
        // The usual clocks tick a whole number of times per TimeSpan tick (1 for a VirtualClock, 100 for Linux's
        // nanosecond Stopwatch): multiply, without the 128-bit division that costs more than the rest of arming.
        if (_clockTicksPerTimeSpanTick != 0)
            return ticks <= long.MaxValue / _clockTicksPerTimeSpanTick ? ticks * _clockTicksPerTimeSpanTick : long.MaxValue;
        Int128 scaled = ((Int128)ticks * _time.TimestampFrequency + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
        return scaled > long.MaxValue ? long.MaxValue : (long)scaled;
    }

    /// <summary>
    /// Runs blocking <paramref name="work"/> (a file, a DNS lookup, heavy computation) on a worker thread and
    /// resumes the caller on the loop with its result. The loop keeps running other tasks meanwhile.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The blocking work.</param>
    /// <param name="cancellationToken">Abandons the wait (the work itself cannot be interrupted and runs to its end).</param>
    public Task<T> RunOnWorker<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        CheckThread();
        ArgumentNullException.ThrowIfNull(work);
        return new WorkerRequest<T>(this, work).Start(cancellationToken);
    }

    /// <summary>Runs blocking <paramref name="work"/> on a worker thread; see <see cref="RunOnWorker{T}(Func{T}, CancellationToken)"/>.</summary>
    /// <param name="work">The blocking work.</param>
    /// <param name="cancellationToken">Abandons the wait.</param>
    public Task RunOnWorker(Action work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunOnWorker(() => { work(); return true; }, cancellationToken);
    }

    /// <summary>
    /// The loop's live tasks (spawned and not finished), each before its children, with its state, what it waits for
    /// and, when the loop's diagnostics are on, its times and turns.
    /// </summary>
    public IReadOnlyList<LoopTaskInfo> GetTasks() => TakeSnapshot(int.MaxValue).Tasks;
}
