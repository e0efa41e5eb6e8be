namespace Meanwhile;

public sealed partial class EventLoop
{
    // The execution context the loop thread runs its work under: the one its owner had when the loop was made, then when
    // each run began. Work queued with that same context has nothing to flow (the common case, which must stay free).
    private ExecutionContext? _baselineContext;

    /// <summary>The last pair of a task's name and a context to flow, which tasks spawned alike share (see LoopTask's constructor).</summary>
    internal object? LastNamedContext;

    private void NoteBaselineContext() => Volatile.Write(ref _baselineContext, ExecutionContext.Capture());

    /// <summary>
    /// The caller's <see cref="ExecutionContext"/> (its <see cref="AsyncLocal{T}"/> values: <c>Activity.Current</c>,
    /// logging scopes, culture) if work queued now must carry it: null when it is the context the loop runs work under
    /// anyway, or when the caller suppressed the flow (<see cref="ExecutionContext.SuppressFlow"/>). One thread-local
    /// read and a comparison, so that spawning or posting costs nothing more when nothing flows.
    /// </summary>
    internal ExecutionContext? ContextToFlow()
    {
        var context = ExecutionContext.Capture();
        return ReferenceEquals(context, Volatile.Read(ref _baselineContext)) ? null : context;
    }

    /// <summary><paramref name="callback"/>, made to run in the caller's execution context if that must flow.</summary>
    private Action WithCallersContext(Action callback) =>
        ContextToFlow() is { } context ? FlowedContinuation.Wrap(context, callback) : callback;

    /// <summary>A ready item for <paramref name="callback"/> and its <paramref name="state"/>, run in the caller's execution context if that must flow.</summary>
    private ReadyItem WithCallersContext(Action<object?> callback, object? state) =>
        ContextToFlow() is { } context ? new ReadyItem(FlowedContinuation.Wrap(context, callback, state), null) : new ReadyItem(callback, state);
}
