namespace Meanwhile;

/// <summary>What a task waits for, and on what: a deadline, a descriptor, a task id.</summary>
/// <param name="Kind">The kind of wait.</param>
/// <param name="Detail">The descriptor for I/O, the task id for a task, the timer's deadline in loop ticks, the task count for several tasks.</param>
public readonly record struct WaitReason(WaitKind Kind, long Detail = 0)
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
        _ => Kind.ToString(),
    };
}
