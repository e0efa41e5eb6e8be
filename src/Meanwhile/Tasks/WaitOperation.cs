
namespace Meanwhile;

/// <summary>One wait on several tasks (asyncio.wait): counts completions on the loop and ends on the mode's condition, a timeout or cancellation.</summary>
internal sealed class WaitOperation : ITaskWait
{
    private readonly EventLoop _loop;
    private readonly Task[] _tasks;
    private readonly WaitMode _mode;
    private readonly TaskCompletionSource<WaitResult> _completion = new();
    private LoopTask? _owner;
    private int _remaining;
    private TimerHandle _timer;
    private CancellationTokenRegistration _registration;

    public WaitOperation(EventLoop loop, Task[] tasks, WaitMode mode)
    {
        _loop = loop;
        _tasks = tasks;
        _mode = mode;
    }

    /// <summary>The first task seen to finish, for when-any.</summary>
    public Task? First { get; private set; }

    public WaitReason Reason => new(WaitKind.Tasks, _tasks.Length);

    public Task<WaitResult> Start(TimeSpan? timeout, CancellationToken token)
    {
        _owner = LoopTask.CurrentOn(_loop);
        if (token.IsCancellationRequested || _owner is { IsCancellationRequested: true })
        {
            _completion.SetCanceled(token.IsCancellationRequested ? token : _owner!.Token);
            return _completion.Task;
        }
        _remaining = _tasks.Length;
        foreach (var task in _tasks)
        {
            if (task.IsCompleted)
            {
                if (Count(task)) return _completion.Task;
            }
        }
        foreach (var task in _tasks)
        {
            if (!task.IsCompleted)
            {
                var t = task;
                t.GetAwaiter().UnsafeOnCompleted(() => OnTaskCompleted(t)); // inline on the loop (see LoopTask.Start)
            }
        }
        if (_completion.Task.IsCompleted) return _completion.Task;
        if (_owner is not null) _owner.CurrentWait = this;
        _loop.Recorder.Record(LoopEventKind.WaitStarted, _owner, Reason);
        if (timeout is { } limit) _timer = _loop.CallLater(limit, () => Finish());
        if (token.CanBeCanceled)
            _registration = token.UnsafeRegister(static (s, t) =>
            {
                var op = (WaitOperation)s!;
                try { op._loop.PostFromAnyThread(new ReadyItem(static (object? x) => { var (o, tk) = ((WaitOperation, CancellationToken))x!; o.Cancel(tk); }, (op, t))); }
                catch (ObjectDisposedException) { }
            }, this);
        return _completion.Task;
    }

    private void OnTaskCompleted(Task task)
    {
        if (_loop.IsLoopThread) Count(task);
        else
        {
            try { _loop.PostFromAnyThread(new ReadyItem(static (object? s) => { var (op, t) = ((WaitOperation, Task))s!; op.Count(t); }, (this, task))); }
            catch (ObjectDisposedException) { }
        }
    }

    /// <summary>Counts one finished task; returns true once the wait is over.</summary>
    private bool Count(Task task)
    {
        if (_completion.Task.IsCompleted) return true;
        First ??= task;
        _remaining--;
        bool done = _mode switch
        {
            WaitMode.FirstCompleted => true,
            WaitMode.FirstException => task.IsFaulted || _remaining == 0,
            _ => _remaining == 0,
        };
        if (done) Finish();
        return done;
    }

    private void Finish()
    {
        if (_completion.Task.IsCompleted) return;
        Cleanup();
        var done = new List<Task>();
        var pending = new List<Task>();
        foreach (var task in _tasks) (task.IsCompleted ? done : pending).Add(task);
        _completion.TrySetResult(new WaitResult(done, pending));
    }

    public void CancelFromOwner(LoopTask owner) => Cancel(owner.Token);

    private void Cancel(CancellationToken token)
    {
        if (_completion.Task.IsCompleted) return;
        Cleanup();
        _completion.TrySetCanceled(token);
    }

    private void Cleanup()
    {
        _timer.Cancel();
        _registration.Dispose();
        if (_owner is not null && _owner.CurrentWait == this)
        {
            _owner.CurrentWait = null;
            _loop.Recorder.Record(LoopEventKind.WaitEnded, _owner, Reason);
        }
    }
}
