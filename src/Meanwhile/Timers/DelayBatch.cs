using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>
/// Up to <see cref="Capacity"/> plain delays (no token) of one duration, armed one after the other and due within a
/// millisecond of each other (see <see cref="EventLoop"/>'s <c>ArmBatchedDelay</c>): they share one timer, due at the
/// latest of their deadlines. Each delay is a slot, its <see cref="ValueTask"/> token the slot's index: 16 bytes for
/// the continuation's state and the owning task instead of a timer object per delay, so many pending sleeps cost a
/// fraction of the memory, and the loop arms and fires a timer per batch rather than per delay (docs/benchmarks.md,
/// Event loop, has what a million cost).
/// </summary>
/// <remarks>
/// A batch is never reused, so a slot's status is enough to refuse a second await. Only the owner's cancellation can
/// end a slot early (delays with a token get a timer of their own); the batch leaves the timer queue when no slot is
/// left waiting. The timer's own <see cref="LoopWait"/> state is unused: this class answers for its slots through its
/// own <see cref="IValueTaskSource"/> implementation.
/// </remarks>
internal sealed class DelayBatch : TimerEntry, IValueTaskSource
{
    public const int Capacity = 16;

    private enum SlotStatus : byte { Free, Pending, Succeeded, Canceled, Consumed }

    private struct Slot
    {
        public object? State;     // the async method's box once awaited (its continuation is the runtime's one delegate)
        public LoopTask? Owner;   // the task that armed the delay: the continuation runs under it; its cancellation ends the slot
    }

    [InlineArray(Capacity)]
    private struct Slots { private Slot _slot; }

    [InlineArray(Capacity)]
    private struct Statuses { private SlotStatus _status; }

    /// <summary>What only unusual awaits need (a continuation other than an async method's, a flowed context).</summary>
    private sealed class Rare
    {
        public readonly Action<object?>?[] Continuations = new Action<object?>?[Capacity];
        public readonly ExecutionContext?[] Contexts = new ExecutionContext?[Capacity];
    }

    private Slots _slots;
    private Statuses _statuses;
    private Rare? _rare;
    private int _count;   // slots handed out
    private int _waiting; // slots still pending
    internal readonly long Ticks; // the delay of every slot, in clock ticks
    internal long FirstDeadline;  // the deadline it was armed with; Deadline moves later as delays join (see EventLoop.ArmBatchedDelay)

    public DelayBatch(EventLoop loop, long ticks) : base(loop) => Ticks = ticks;

    public bool IsFull => _count == Capacity;

    /// <summary>Whether every slot has ended (fired or cancelled): the timer has nothing left to do.</summary>
    public bool IsSpent => _waiting == 0;

    /// <summary>Adds a pending delay for <paramref name="owner"/> and returns it.</summary>
    public ValueTask Add(LoopTask? owner)
    {
        int slot = _count++;
        _slots[slot].Owner = owner;
        _statuses[slot] = SlotStatus.Pending;
        _waiting++;
        if (owner is not null) owner.CurrentWait = this;
        return new ValueTask(this, (short)slot);
    }

    public override WaitReason Reason
    {
        get
        {
            if (!IsInQueue && !IsSpent && Loop.IsLoopThread) Loop.StampDelays(); // armed, its deadline not yet set
            return new(WaitKind.Timer, Deadline);
        }
    }

    /// <summary>The deadline came: every pending slot succeeds and its continuation is queued, in arming order.</summary>
    internal override void Fire()
    {
        for (int i = 0; i < _count; i++)
        {
            if (_statuses[i] != SlotStatus.Pending) continue;
            _statuses[i] = SlotStatus.Succeeded;
            Schedule(i);
        }
        _waiting = 0;
    }

    public override void CancelFromOwner(LoopTask owner)
    {
        for (int i = 0; i < _count; i++)
        {
            if (_statuses[i] != SlotStatus.Pending || _slots[i].Owner != owner) continue;
            _statuses[i] = SlotStatus.Canceled;
            _waiting--;
            Schedule(i);
        }
        if (_waiting == 0 && IsInQueue) Loop.Timers.Remove(this);
    }

    /// <summary>Queues slot <paramref name="slot"/>'s continuation, if one is registered yet.</summary>
    private void Schedule(int slot)
    {
        ref var entry = ref _slots[slot];
        var continuation = _rare?.Continuations[slot];
        if (continuation is null)
        {
            if (entry.State is null) return; // not awaited yet: OnCompleted will queue it
            continuation = AsyncMethodContinuation!;
        }
        var state = entry.State;
        entry.State = null;
        if (_rare is { } rare)
        {
            rare.Continuations[slot] = null;
            if (rare.Contexts[slot] is { } context)
            {
                rare.Contexts[slot] = null;
                Loop.EnqueueReady(new ReadyItem(static s =>
                {
                    var (c, st, ec) = ((Action<object?>, object?, ExecutionContext))s!;
                    ExecutionContext.Run(ec, static s2 => { var (c2, st2) = ((Action<object?>, object?))s2!; c2(st2); }, (c, st));
                }, (continuation, state, context), entry.Owner));
                return;
            }
        }
        Loop.EnqueueReady(new ReadyItem(continuation, state, entry.Owner));
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => StatusOf(token) switch
    {
        SlotStatus.Pending => ValueTaskSourceStatus.Pending,
        SlotStatus.Succeeded => ValueTaskSourceStatus.Succeeded,
        SlotStatus.Canceled => ValueTaskSourceStatus.Canceled,
        _ => throw AlreadyAwaited(),
    };

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        var status = StatusOf(token);
        if (status == SlotStatus.Consumed) throw AlreadyAwaited();
        ref var slot = ref _slots[token];
        if (slot.State is not null || _rare?.Continuations[token] is not null)
            throw new InvalidOperationException("A loop wait can be awaited only once.");
        var current = SynchronizationContext.Current; // see LoopWait.OnCompleted
        if (!(current is LoopSynchronizationContext context && ReferenceEquals(context.Loop, Loop)) && !Loop.IsLoopThread)
            throw new InvalidOperationException("A loop wait was awaited from a thread that is not the loop's; await it from loop code.");
        if (ReferenceEquals(continuation, AsyncMethodContinuation) && state is not null) slot.State = state;
        else
        {
            _rare ??= new Rare();
            _rare.Continuations[token] = continuation;
            slot.State = state;
        }
        Loop.NoteLoopAwait(slot.Owner, current);
        // The scheduling context is ignored on purpose: loop waits always resume on the loop.
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 && ExecutionContext.Capture() is { } flowed)
            (_rare ??= new Rare()).Contexts[token] = flowed;
        if (status != SlotStatus.Pending) Schedule(token);
    }

    void IValueTaskSource.GetResult(short token)
    {
        var status = StatusOf(token);
        ref var slot = ref _slots[token];
        var owner = slot.Owner;
        switch (status)
        {
            case SlotStatus.Pending: throw new InvalidOperationException("The wait has not completed yet.");
            case SlotStatus.Consumed: throw AlreadyAwaited();
        }
        _statuses[token] = SlotStatus.Consumed;
        slot.Owner = null;
        if (owner is not null && owner.CurrentWait == this && !IsWaitingFor(owner)) owner.CurrentWait = null;
        if (status == SlotStatus.Canceled) throw new OperationCanceledException(owner!.Token);
    }

    private bool IsWaitingFor(LoopTask owner)
    {
        for (int i = 0; i < _count; i++)
            if (_statuses[i] == SlotStatus.Pending && _slots[i].Owner == owner) return true;
        return false;
    }

    private SlotStatus StatusOf(short token)
    {
        if ((uint)token >= (uint)_count) throw AlreadyAwaited();
        return _statuses[token];
    }

    private static InvalidOperationException AlreadyAwaited() =>
        new("This ValueTask was already awaited; a loop wait can be awaited once.");
}
