namespace Meanwhile;

/// <summary>What a suspended task waits for.</summary>
public enum WaitKind
{
    /// <summary>Nothing the loop knows of: running, ready to run, or awaiting an operation the loop does not track.</summary>
    None,
    /// <summary>A loop timer (a delay or a timeout).</summary>
    Timer,
    /// <summary>A file descriptor becoming readable.</summary>
    Readable,
    /// <summary>A file descriptor becoming writable.</summary>
    Writable,
    /// <summary>Another loop task.</summary>
    Task,
    /// <summary>Several tasks (a when-all, when-any or wait).</summary>
    Tasks,
    /// <summary>Work offloaded to a worker thread.</summary>
    Worker,
    /// <summary>A socket operation handed to .NET. No longer reported: the portable backend waits on its sockets as epoll does (<see cref="Readable"/>, <see cref="Writable"/>).</summary>
    Socket,
    /// <summary>
    /// A task or awaitable the loop does not run (a <see cref="Task"/> from another library, a <c>Channel</c> read):
    /// <see cref="WaitReason.Detail"/> is 1 when the wait goes through <see cref="EventLoop.Cancellable(Task, CancellationToken)"/> and
    /// ends when the task is cancelled, 0 when the task awaits it directly: then only a token given to that operation
    /// can end it early.
    /// </summary>
    Foreign,
    /// <summary>An item from a <see cref="LoopQueue{T}"/>.</summary>
    QueueGet,
    /// <summary>Room in a bounded <see cref="LoopQueue{T}"/>.</summary>
    QueuePut,
    /// <summary>Every item of a <see cref="LoopQueue{T}"/> marked done (<see cref="LoopQueue{T}.JoinAsync"/>).</summary>
    QueueJoin,
    /// <summary>A <see cref="LoopLock"/>.</summary>
    Lock,
    /// <summary>A permit of a <see cref="LoopSemaphore"/>.</summary>
    Semaphore,
    /// <summary>A <see cref="LoopManualResetEvent"/> being set.</summary>
    Event,
    /// <summary>A notification of a <see cref="LoopCondition"/>.</summary>
    Condition,
    /// <summary>The other parties of a <see cref="LoopBarrier"/>.</summary>
    Barrier,
    /// <summary>A new value of a <see cref="LoopWatch{T}"/>.</summary>
    Watch,
}
