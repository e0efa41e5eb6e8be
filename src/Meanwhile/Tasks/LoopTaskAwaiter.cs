using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>Awaiter of a <see cref="LoopTask"/>.</summary>
public readonly struct LoopTaskAwaiter : ICriticalNotifyCompletion
{
    private readonly LoopTask _task;

    internal LoopTaskAwaiter(LoopTask task) => _task = task;

    /// <summary>Whether the task has finished.</summary>
    public bool IsCompleted => _task.IsCompleted;

    /// <summary>Schedules the continuation to run on the loop once the task finishes.</summary>
    public void OnCompleted(Action continuation) => _task.AddContinuation(continuation, flowExecutionContext: true);

    /// <summary>Schedules the continuation to run on the loop once the task finishes.</summary>
    public void UnsafeOnCompleted(Action continuation) => _task.AddContinuation(continuation, flowExecutionContext: false);

    /// <summary>Ends the await: throws the task's exception if it failed or was cancelled.</summary>
    public void GetResult()
    {
        _task.EndJoin();
        _task.ThrowIfFailed();
    }
}
