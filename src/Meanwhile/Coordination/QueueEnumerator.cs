using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>An <c>await foreach</c> over a <see cref="LoopQueue{T}"/>: gets until the queue is shut down and empty.</summary>
internal sealed class QueueEnumerator<T>(LoopQueue<T> queue, CancellationToken cancellationToken) : IAsyncEnumerator<T>
{
    private EventLoop? _loop;

    public T Current { get; private set; } = default!;

    public ValueTask<bool> MoveNextAsync()
    {
        var owner = LoopAffinity.Enter(ref _loop);
        if (queue.TryGetCore(out var item))
        {
            Current = item;
            return new ValueTask<bool>(true);
        }
        if (queue.IsShutDown) return new ValueTask<bool>(false);
        return MoveNextAfterWait(queue.WaitToGet(owner, cancellationToken));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> MoveNextAfterWait(ValueTask<T> get)
    {
        try
        {
            Current = await get;
            return true;
        }
        catch (QueueShutDownException)
        {
            return false; // shut down while we waited, and empty: the end of the items, not an error
        }
    }

    public ValueTask DisposeAsync() => default;
}
