namespace Meanwhile;

/// <summary>What a task waits for, and on what: a deadline, a descriptor, a task id, a named queue or lock.</summary>
/// <param name="Kind">The kind of wait.</param>
/// <param name="Detail">The descriptor for I/O, the task id for a task, the timer's deadline in loop ticks, the task count for several tasks.</param>
/// <param name="Name">The name given to the queue, lock or other coordination primitive waited on, if any.</param>
public readonly record struct WaitReason(WaitKind Kind, long Detail = 0, string? Name = null)
{
    /// <summary>No wait.</summary>
    public static WaitReason None => default;

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        WaitKind.None => "nothing tracked",
        WaitKind.Timer => "timer",
        WaitKind.Readable => $"fd {Detail} readable",
        WaitKind.Writable => $"fd {Detail} writable",
        WaitKind.Task => $"task #{Detail}",
        WaitKind.Tasks => $"{Detail} tasks",
        WaitKind.Worker => "worker thread",
        WaitKind.Socket => "socket operation",
        WaitKind.Foreign => Detail == 0 ? "a task the loop does not run" : "a task the loop does not run (abandoned if cancelled)",
        WaitKind.QueueGet => Named("queue", "get"),
        WaitKind.QueuePut => Named("queue", "put"),
        WaitKind.QueueJoin => Named("queue", "join"),
        WaitKind.Lock => Named("lock", null),
        WaitKind.Semaphore => Named("semaphore", null),
        WaitKind.Event => Named("event", null),
        WaitKind.Condition => Named("condition", null),
        WaitKind.Barrier => Named("barrier", null),
        WaitKind.Watch => Named("watch", null),
        _ => Kind.ToString(),
    };

    private string Named(string primitive, string? operation) =>
        (Name is null ? primitive : $"{primitive} '{Name}'") + (operation is null ? "" : $" ({operation})");
}
