using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>
/// A yield outside any task (a loop callback), or a second yield of a task that has one pending: a one-shot source
/// that queues the continuation at the end of the ready queue. Inside a task, the task itself is the source.
/// </summary>
internal sealed class YieldSource(EventLoop loop) : IValueTaskSource
{
    private bool _resumed;
    private Action<object?>? _continuation;
    private object? _state;

    public ValueTaskSourceStatus GetStatus(short token) => _resumed ? ValueTaskSourceStatus.Succeeded : ValueTaskSourceStatus.Pending;

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        var owner = LoopTask.CurrentOn(loop);
        loop.NoteLoopAwait(owner);
        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 && ExecutionContext.Capture() is { } context)
        {
            continuation = FlowedContinuation.Wrap(context, continuation, state);
            state = null;
        }
        _continuation = continuation;
        _state = state;
        loop.EnqueueReady(new ReadyItem(static s => ((YieldSource)s!).Resume(), this, owner));
    }

    private void Resume()
    {
        _resumed = true;
        _continuation!(_state);
    }

    public void GetResult(short token) { }
}
