using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile;

/// <summary>Where a <see cref="LoopTask"/> is in its life.</summary>
public enum LoopTaskStatus
{
    /// <summary>Spawned, waiting for its first turn on the loop.</summary>
    Scheduled,
    /// <summary>Started and not finished (running or suspended).</summary>
    Running,
    /// <summary>Finished successfully.</summary>
    RanToCompletion,
    /// <summary>Finished with an exception.</summary>
    Faulted,
    /// <summary>Cancelled, before it started or by an <see cref="OperationCanceledException"/>.</summary>
    Canceled,
}
