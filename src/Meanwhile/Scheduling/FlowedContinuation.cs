namespace Meanwhile;

/// <summary>
/// Wraps a continuation so that it runs in an execution context captured when it was registered. These are methods of
/// their own on purpose: a lambda capturing a local of the caller makes C# allocate the closure when the caller is
/// entered, so every await would pay for it, flowing a context or not.
/// </summary>
internal static class FlowedContinuation
{
    public static Action Wrap(ExecutionContext context, Action continuation) =>
        () => ExecutionContext.Run(context, static s => ((Action)s!)(), continuation);

    public static Action<object?> Wrap(ExecutionContext context, Action<object?> continuation, object? state) =>
        _ => ExecutionContext.Run(context, static s => { var (c, st) = ((Action<object?>, object?))s!; c(st); }, (continuation, state));
}
