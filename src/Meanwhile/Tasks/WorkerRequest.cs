
namespace Meanwhile;

/// <summary>
/// One piece of blocking work sent to a worker thread (libuv's "request"): runs on the thread pool, and
/// its result comes back to the loop through <see cref="EventLoop.Post(Action)"/>.
/// </summary>
internal sealed class WorkerRequest<T> : IThreadPoolWorkItem, ITaskWait
{
    private readonly EventLoop _loop;
    private readonly Func<T> _work;
    private readonly TaskCompletionSource<T> _completion = new();
    private LoopTask? _owner;
    private CancellationTokenRegistration _registration;
    private bool _counted;
    private T? _result;
    private Exception? _error;

    public WorkerRequest(EventLoop loop, Func<T> work)
    {
        _loop = loop;
        _work = work;
    }

    public WaitReason Reason => new(WaitKind.Worker);

    public Task<T> Start(CancellationToken token)
    {
        _owner = LoopTask.CurrentOn(_loop);
        if (token.IsCancellationRequested || _owner is { IsCancellationRequested: true })
        {
            _completion.SetCanceled(token.IsCancellationRequested ? token : _owner!.Token);
            return _completion.Task;
        }
        if (_owner is not null) _owner.CurrentWait = this;
        _counted = true;
        _loop.ExternalWaits++;
        _loop.Recorder.Record(LoopEventKind.WaitStarted, _owner, Reason);
        if (token.CanBeCanceled)
            _registration = token.UnsafeRegister(static (s, t) =>
            {
                var request = (WorkerRequest<T>)s!;
                try { request._loop.PostFromAnyThread(new ReadyItem(static (object? x) => { var (r, tk) = ((WorkerRequest<T>, CancellationToken))x!; r.Cancel(tk); }, (request, t))); }
                catch (ObjectDisposedException) { }
            }, this);
        _loop.Platform.QueueWorker(this);
        return _completion.Task;
    }

    void IThreadPoolWorkItem.Execute()
    {
        try { _result = _work(); }
        catch (Exception e) { _error = e; }
        // Finished under the waiting task's context, so its continuation runs inline rather than a turn later.
        try { _loop.PostFromAnyThread(new ReadyItem(static (object? s) => ((WorkerRequest<T>)s!).Finish(), this, _owner)); }
        catch (ObjectDisposedException) { /* the loop is gone: nobody waits for this result */ }
    }

    private void Finish()
    {
        EndWait();
        if (_error is not null) _completion.TrySetException(_error);
        else _completion.TrySetResult(_result!);
    }

    public void CancelFromOwner(LoopTask owner) => Cancel(owner.Token);

    private void Cancel(CancellationToken token)
    {
        if (_completion.Task.IsCompleted) return;
        EndWait();
        _completion.TrySetCanceled(token);
    }

    private void EndWait()
    {
        _registration.Dispose();
        if (_counted)
        {
            _counted = false;
            _loop.ExternalWaits--;
            _loop.Recorder.Record(LoopEventKind.WaitEnded, _owner, Reason);
        }
        if (_owner is not null && _owner.CurrentWait == this) _owner.CurrentWait = null;
    }
}
