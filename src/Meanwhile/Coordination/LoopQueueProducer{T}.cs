namespace Meanwhile;

/// <summary>
/// The thread-safe side of a <see cref="LoopQueue{T}"/> (from <see cref="LoopQueue{T}.ThreadSafeProducer"/>): other
/// threads put items into the loop's queue through it, with backpressure. A put completes once the queue has taken the
/// item, so a producer that outruns the loop's getters waits while the queue is full instead of filling memory.
/// </summary>
/// <remarks>
/// Each put is carried to the loop (through <see cref="EventLoop.Post(Action)"/>) and done there in the order the
/// posts arrive; so one thread's puts keep their order. A put made on the loop thread is an ordinary
/// <see cref="LoopQueue{T}.PutAsync"/>.
/// </remarks>
/// <typeparam name="T">The items' type.</typeparam>
public sealed class LoopQueueProducer<T>
{
    private readonly LoopQueue<T> _queue;
    private readonly EventLoop _loop;

    internal LoopQueueProducer(LoopQueue<T> queue, EventLoop loop)
    {
        _queue = queue;
        _loop = loop;
    }

    /// <summary>Puts <paramref name="item"/> into the queue from any thread; completes once the queue took it.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Gives up while the put waits for room; the item is then not put.</param>
    /// <exception cref="QueueShutDownException">The queue was shut down.</exception>
    /// <exception cref="ObjectDisposedException">The loop was disposed.</exception>
    public ValueTask PutAsync(T item, CancellationToken cancellationToken = default)
    {
        if (_loop.IsLoopThread) return _queue.PutAsync(item, cancellationToken);
        var put = new ForeignPut(_queue, item, cancellationToken);
        _loop.PostFromAnyThread(new ReadyItem(static s => _ = ((ForeignPut)s!).RunOnLoop(), put));
        return new ValueTask(put.Completion.Task);
    }

    /// <summary>Puts <paramref name="item"/>, blocking the calling thread while the queue is full. Not for the loop thread.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Gives up while the put waits for room; the item is then not put.</param>
    /// <exception cref="InvalidOperationException">Called on the loop's thread, which would wait for itself.</exception>
    /// <exception cref="QueueShutDownException">The queue was shut down.</exception>
    public void Put(T item, CancellationToken cancellationToken = default)
    {
        if (_loop.IsLoopThread)
            throw new InvalidOperationException("A blocking Put on the loop's own thread would wait for itself; await PutAsync there instead.");
        PutAsync(item, cancellationToken).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Shuts the queue down from any thread (see <see cref="LoopQueue{T}.Shutdown"/>), after this thread's earlier puts reached the loop.</summary>
    public void Shutdown()
    {
        if (_loop.IsLoopThread) _queue.Shutdown();
        else _loop.PostFromAnyThread(new ReadyItem(static s => ((LoopQueue<T>)s!).Shutdown(), _queue));
    }

    /// <summary>One put from another thread, done on the loop.</summary>
    private sealed class ForeignPut(LoopQueue<T> queue, T item, CancellationToken cancellationToken)
    {
        // Completed on the loop thread; the producer's code must not run there.
        public readonly TaskCompletionSource Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task RunOnLoop() // never faults: every outcome goes to Completion
        {
            try
            {
                await queue.PutAsync(item, cancellationToken);
                Completion.TrySetResult();
            }
            catch (OperationCanceledException e)
            {
                Completion.TrySetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                Completion.TrySetException(e);
            }
        }
    }
}
