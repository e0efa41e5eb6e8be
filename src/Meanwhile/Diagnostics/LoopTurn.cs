namespace Meanwhile;

/// <summary>One turn of a task (or of a loop callback outside any task): who ran, in which method, for how long.</summary>
/// <param name="TaskId">The task that ran (0: a loop callback outside any task).</param>
/// <param name="TaskName">The task's name, if any.</param>
/// <param name="Method">The async method or callback that ran, as code names it ("ServerConnection.RunAsync").</param>
/// <param name="Duration">How long it ran; for a turn still running, how long it has run so far.</param>
/// <param name="Ago">How long ago it ended (zero for a turn still running).</param>
public readonly record struct LoopTurn(int TaskId, string? TaskName, string? Method, TimeSpan Duration, TimeSpan Ago);
