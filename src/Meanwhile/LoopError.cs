namespace Meanwhile;

/// <summary>An error reported to <see cref="EventLoopOptions.OnError"/>.</summary>
/// <param name="Exception">What was thrown.</param>
/// <param name="Message">Where it came from, in words.</param>
/// <param name="TaskId">The task it concerns, or 0.</param>
/// <param name="TaskName">That task's name, if it has one.</param>
public sealed record LoopError(Exception Exception, string Message, int TaskId, string? TaskName)
{
    /// <inheritdoc />
    public override string ToString() =>
        TaskId == 0 ? $"{Message}: {Exception}" : $"{Message} (task #{TaskId}{(TaskName is null ? "" : $" '{TaskName}'")}): {Exception}";
}
