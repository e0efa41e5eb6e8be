using System.Threading.Tasks.Sources;

namespace Meanwhile.Scheduling;

/// <summary>
/// A yield outside any task (a loop callback), or a second yield of a task that has one pending: a one-shot source
/// that queues the continuation at the end of the ready queue. Inside a task, the task itself is the source.
/// </summary>
internal sealed class YieldSource(EventLoop loop) : IValueTaskSource
{
    private bool _resumed;

    public ValueTaskSourceStatus GetStatus(short token) => _resumed ? ValueTaskSourceStatus.Succeeded : ValueTaskSourceStatus.Pending;

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        var context = (flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0 ? ExecutionContext.Capture() : null;
        loop.EnqueueReady(new ReadyItem(_ =>
        {
            _resumed = true;
            if (context is null) continuation(state);
            else ExecutionContext.Run(context, _ => continuation(state), null);
        }, null, LoopTask.CurrentOn(loop)));
    }

    public void GetResult(short token) { }
}
