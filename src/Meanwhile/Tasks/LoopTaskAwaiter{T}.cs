using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>Awaiter of a <see cref="LoopTask{T}"/>.</summary>
/// <typeparam name="T">The type of the task's value.</typeparam>
public readonly struct LoopTaskAwaiter<T> : ICriticalNotifyCompletion
{
    private readonly LoopTask<T> _task;

    internal LoopTaskAwaiter(LoopTask<T> task) => _task = task;

    /// <summary>Whether the task has finished.</summary>
    public bool IsCompleted => _task.IsCompleted;

    /// <summary>Schedules the continuation to run on the loop once the task finishes.</summary>
    public void OnCompleted(Action continuation) => _task.AddContinuation(continuation, flowExecutionContext: true);

    /// <summary>Schedules the continuation to run on the loop once the task finishes.</summary>
    public void UnsafeOnCompleted(Action continuation) => _task.AddContinuation(continuation, flowExecutionContext: false);

    /// <summary>Ends the await: the task's value, or its exception.</summary>
    public T GetResult() => _task.Result;
}
