using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>A <see cref="LoopTask"/> that produces a value.</summary>
/// <typeparam name="T">The type of the value.</typeparam>
public sealed class LoopTask<T> : LoopTask
{
    private T? _result;

    internal LoopTask(EventLoop loop, CancelScope parent, Delegate work, string? name) : base(loop, parent, work, name) { }

    /// <summary>The value; throws the task's exception if it failed, or if it has not finished.</summary>
    public T Result
    {
        get
        {
            EndJoin();
            ThrowIfFailed();
            return _result!;
        }
    }

    /// <summary>Gets an awaiter; the continuation runs on the loop.</summary>
    public new LoopTaskAwaiter<T> GetAwaiter() => new(this);

    /// <summary>A <see cref="Task{TResult}"/> that completes like this task.</summary>
    public new Task<T> AsTask() => (Task<T>)base.AsTask();

    private protected override object CreateTaskSource() => new TaskCompletionSource<T>();
    private protected override Task TaskOf(object source) => ((TaskCompletionSource<T>)source).Task;
    private protected override void SetTaskSourceResult(object source) => ((TaskCompletionSource<T>)source).TrySetResult(_result!);
    private protected override void SetCanceled(object source, CancellationToken token) => ((TaskCompletionSource<T>)source).TrySetCanceled(token);
    private protected override void SetFailed(object source, Exception error) => ((TaskCompletionSource<T>)source).TrySetException(error);
    private protected override void CaptureResult(Task inner) => _result = ((Task<T>)inner).Result;
}
