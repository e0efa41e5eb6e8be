using System.Runtime.CompilerServices;

namespace Meanwhile.Http.Server;

/// <summary>
/// How the connection waits for an asynchronous handler: it resumes inline when the handler completes in the
/// connection's own task (as an awaited <see cref="Task"/> does), and is posted to its context otherwise.
/// </summary>
/// <remarks>
/// A plain <c>await</c> of the handler's <see cref="ValueTask"/> would capture the loop's context, and the runtime's
/// value-task sources (every <c>async ValueTask</c> method's box) always post a captured context's continuation, with a
/// delegate made for the post: a trip through the ready queue and an allocation per request, for a handler that almost
/// always finishes on the loop, in the connection's task. One per pooled <see cref="RequestState"/>; loop thread only.
/// </remarks>
internal sealed class HandlerResumption
{
    private readonly Action _resume;
    private Action? _continuation;
    private SynchronizationContext? _context;

    public HandlerResumption() => _resume = Resume;

    /// <summary>What <c>await</c> takes: <paramref name="handling"/>, resumed as the remarks say.</summary>
    public Awaitable Await(ValueTask handling) => new(this, handling);

    private void Register(ValueTask handling, Action continuation)
    {
        _continuation = continuation;
        _context = SynchronizationContext.Current;
        // Without the context, the completion calls _resume directly, on whatever thread completes the handler. A
        // Task-backed handler completed on the loop is the exception: the runtime never inlines a context-free Task
        // continuation under a custom context and sends it to the thread pool, from where Resume posts it back.
        handling.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_resume);
    }

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
