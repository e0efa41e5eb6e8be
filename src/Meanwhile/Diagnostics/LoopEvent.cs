namespace Meanwhile;

/// <summary>One recorded event of the loop.</summary>
/// <param name="Time">When it happened, measured on the loop's clock from the moment recording started.</param>
/// <param name="Kind">What happened.</param>
/// <param name="TaskId">The task it concerns (0 for none).</param>
/// <param name="Reason">For waits: what was waited for.</param>
/// <param name="Label">For marks and spawns: the label or task name.</param>
public readonly record struct LoopEvent(TimeSpan Time, LoopEventKind Kind, int TaskId, WaitReason Reason, string? Label);
