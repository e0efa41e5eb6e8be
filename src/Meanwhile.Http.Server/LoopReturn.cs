using System.Runtime.CompilerServices;

namespace Meanwhile.Http.Server;

/// <summary>
/// Awaiting it from any thread continues on <paramref name="loop"/> (through <see cref="EventLoop.Post(Action)"/>, its one
/// thread-safe way in): for code that resumed off the loop, such as a handler that finished on a worker thread.
/// </summary>
internal readonly struct LoopReturn(EventLoop loop) : ICriticalNotifyCompletion
{
    public LoopReturn GetAwaiter() => this;

    public bool IsCompleted => loop.IsLoopThread;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) => loop.Post(continuation);

    public void UnsafeOnCompleted(Action continuation) => loop.Post(continuation);
}
