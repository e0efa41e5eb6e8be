using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// The box of one async method (<typeparamref name="TStateMachine"/>), pooled per thread: up to
/// <see cref="PoolCapacity"/> boxes wait there for the method's next call that has to wait, so that a loop with that many
/// calls in flight at once (one per connection of a busy server) allocates none once warm.
/// </summary>
internal sealed class PooledStateMachineBox<TStateMachine, TResult> : LoopStateMachineBox<TResult>, IResumable
    where TStateMachine : IAsyncStateMachine
{
    // Per thread and method: 256 boxes of a few hundred bytes at most, kept only after that many calls waited at once.
    private const int PoolCapacity = 256;

    [ThreadStatic]
    private static PooledStateMachineBox<TStateMachine, TResult>?[]? s_pool;
    [ThreadStatic]
    private static int s_pooled;

    private static readonly ContextCallback RunInContext = box => ((PooledStateMachineBox<TStateMachine, TResult>)box!).StateMachine!.MoveNext();

    private Action? _moveNextAction;

    private PooledStateMachineBox()
    {
    }

    /// <summary>The method's state, moved here from the stack at its first await that waits.</summary>
    public TStateMachine? StateMachine;

    /// <summary>The execution context at the latest await (null when its flow was suppressed).</summary>
    public ExecutionContext? Context;

    /// <summary>
    /// Resumes the method; made once per box, and only for an awaiter that takes nothing but an <see cref="Action"/> (a
    /// Task's, a custom one): an await of a loop wait registers the box itself (see LoopPoolingBuilding.AwaitUnsafe), so
    /// that ten thousand boxes waiting at once on sockets cost no delegate each.
    /// </summary>
    public Action MoveNextAction => _moveNextAction ??= MoveNext;

    void IResumable.Resume() => MoveNext();

    public static PooledStateMachineBox<TStateMachine, TResult> Rent()
    {
        var pool = s_pool;
        if (pool is not null && s_pooled > 0)
        {
            int last = --s_pooled;
            var box = pool[last]!;
            pool[last] = null;
            return box;
        }
        return new PooledStateMachineBox<TStateMachine, TResult>();
    }

    protected override void Recycle()
    {
        StateMachine = default;
        Context = null;
        var pool = s_pool ??= new PooledStateMachineBox<TStateMachine, TResult>?[PoolCapacity];
        if (s_pooled < pool.Length) pool[s_pooled++] = this;
    }

    private void MoveNext()
    {
        if (Context is null) StateMachine!.MoveNext();
        else ExecutionContext.Run(Context, RunInContext, this);
    }
}
