using System.Runtime.CompilerServices;

namespace Meanwhile.Http.Server;

/// <summary>
/// How the connection waits for an asynchronous handler: it resumes inline when the handler completes in the
/// connection's own task (as an awaited <see cref="Task"/> does), and is posted to its context otherwise; never through
/// the thread pool.
/// </summary>
/// <remarks>
/// A plain <c>await</c> of the handler's <see cref="ValueTask"/> would capture the loop's context, and the runtime's
/// value-task sources (every <c>async ValueTask</c> method's box) always post a captured context's continuation, with a
/// delegate made for the post: a trip through the ready queue and an allocation per request, for a handler that almost
/// always finishes on the loop, in the connection's task. One per pooled <see cref="RequestState"/>; loop thread only.
/// </remarks>
internal sealed class HandlerResumption
{
    private Action? _resume; // made by the first value-task-source handler: a Task-backed one never needs it
    private Action? _continuation;
    private SynchronizationContext? _context;

    /// <summary>What <c>await</c> takes: <paramref name="handling"/>, resumed as the remarks say.</summary>
    public Awaitable Await(ValueTask handling) => new(this, handling);

    private void Register(ValueTask handling, Action continuation)
    {
        if (TaskOf(ref handling) is { } task)
        {
            // A Task-backed handler (a plain async method returning Task, or an async ValueTask method without the
            // pooling builder: most users' lambdas). The runtime never inlines a context-free Task continuation under a
            // custom context: it would send it to the thread pool, from where it would have to be posted back (a pool
            // thread woken per request, and on a simulated network a completion arriving in real time). Awaited with the
            // context, it resumes inline where it completes in this connection's task, and is posted there otherwise.
            task.GetAwaiter().UnsafeOnCompleted(continuation);
            return;
        }
        _continuation = continuation;
        _context = SynchronizationContext.Current;
        // Without the context, the completion calls _resume directly, on whatever thread completes the handler.
        handling.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_resume ??= Resume);
    }

    /// <summary>The task behind <paramref name="handling"/>, when a task (rather than a value-task source) is.</summary>
    private static Task? TaskOf(ref ValueTask handling) => ObjectOf(ref handling) as Task;

    // ValueTask does not say what backs it, and asking through AsTask would allocate for a value-task source.
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_obj")]
    private static extern ref readonly object? ObjectOf(ref ValueTask task);

    private void Resume()
    {
        var continuation = _continuation!;
        var context = _context;
        _continuation = null;
        _context = null;
        if (context is null || SynchronizationContext.Current == context) continuation();
        else context.Post(static state => ((Action)state!)(), continuation);
    }

    /// <summary>The awaitable and its awaiter.</summary>
    public readonly struct Awaitable(HandlerResumption owner, ValueTask handling) : ICriticalNotifyCompletion
    {
        public bool IsCompleted => handling.IsCompleted;

        public Awaitable GetAwaiter() => this;

        public void GetResult() => handling.GetAwaiter().GetResult();

        // Only awaited by the connection's async method, whose builder flows the execution context itself.
        public void OnCompleted(Action continuation) => owner.Register(handling, continuation);

        public void UnsafeOnCompleted(Action continuation) => owner.Register(handling, continuation);
    }
}
