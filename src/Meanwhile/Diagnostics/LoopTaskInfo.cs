namespace Meanwhile;

/// <summary>A snapshot of a live task, for introspection.</summary>
/// <param name="Id">The task's id.</param>
/// <param name="Name">Its name, if any.</param>
/// <param name="ParentId">The id of the task it was spawned from (0 for none).</param>
/// <param name="Status">Where it is in its life.</param>
/// <param name="WaitingOn">What it waits for, when the loop knows.</param>
public readonly record struct LoopTaskInfo(int Id, string? Name, int ParentId, LoopTaskStatus Status, WaitReason WaitingOn)
{
    /// <inheritdoc />
    public override string ToString() => $"#{Id}{(Name is null ? "" : $" {Name}")} {Status}, waiting on {WaitingOn}";
}
