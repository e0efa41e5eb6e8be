using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>Something a task can be suspended on, as the loop tracks it.</summary>
internal interface ITaskWait
{
    WaitReason Reason { get; }

    /// <summary>Ends the wait because its owner was cancelled (or does nothing if it cannot be interrupted).</summary>
    void CancelFromOwner(LoopTask owner);
}
