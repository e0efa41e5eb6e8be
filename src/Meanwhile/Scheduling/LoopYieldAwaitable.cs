using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>Awaitable returned by <see cref="EventLoop.Yield"/>: resumes the caller on the loop's next turn.</summary>
public readonly struct LoopYieldAwaitable
{
    private readonly EventLoop _loop;

    internal LoopYieldAwaitable(EventLoop loop) => _loop = loop;

    /// <summary>Gets the awaiter.</summary>
    public Awaiter GetAwaiter() => new(_loop);

    /// <summary>Queues the continuation at the end of the loop's ready queue.</summary>
    public readonly struct Awaiter : ICriticalNotifyCompletion
    {
        private readonly EventLoop _loop;

        internal Awaiter(EventLoop loop) => _loop = loop;

        /// <summary>Always false: yielding always suspends.</summary>
        public bool IsCompleted => false;

        /// <summary>Queues the continuation, flowing the execution context.</summary>
        public void OnCompleted(Action continuation)
        {
            if (ExecutionContext.Capture() is { } context)
            {
                var inner = continuation;
                continuation = () => ExecutionContext.Run(context, static s => ((Action)s!)(), inner);
            }
            _loop.PostFromAnyThread(new Scheduling.ReadyItem(continuation));
        }

        /// <summary>Queues the continuation.</summary>
        public void UnsafeOnCompleted(Action continuation) => _loop.PostFromAnyThread(new Scheduling.ReadyItem(continuation));

        /// <summary>Nothing to return.</summary>
        public void GetResult() { }
    }
}
