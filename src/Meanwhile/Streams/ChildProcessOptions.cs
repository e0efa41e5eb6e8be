namespace Meanwhile;

/// <summary>How <see cref="ChildProcess.Start"/> sets up the child: its standard streams, directory and environment.</summary>
public sealed record ChildProcessOptions
{
    /// <summary>The defaults: every standard stream inherited, the parent's directory and environment, killed on dispose.</summary>
    public static ChildProcessOptions Default { get; } = new();

    /// <summary>Where the child's stdin comes from; <see cref="ProcessStdio.Pipe"/> exposes <see cref="ChildProcess.StandardInput"/>.</summary>
    public ProcessStdio StandardInput { get; init; } = ProcessStdio.Inherit;

    /// <summary>Where the child's stdout goes; <see cref="ProcessStdio.Pipe"/> exposes <see cref="ChildProcess.StandardOutput"/>.</summary>
    public ProcessStdio StandardOutput { get; init; } = ProcessStdio.Inherit;

    /// <summary>Where the child's stderr goes; <see cref="ProcessStdio.Pipe"/> exposes <see cref="ChildProcess.StandardError"/>.</summary>
    public ProcessStdio StandardError { get; init; } = ProcessStdio.Inherit;

    /// <summary>The child's working directory; null for the parent's. A relative program path is still resolved against the parent's directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// Changes to the inherited environment: each entry sets a variable, or removes it when its value is null.
    /// Null or empty: the child gets the parent's environment as .NET sees it.
    /// </summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>
    /// Whether <see cref="ChildProcess.DisposeAsync"/> kills a child that is still running (SIGKILL) and waits for it
    /// to be gone; true by default, so that no child outlives the code that started it. When false, a running child
    /// is left running, detached, and is reaped when it exits.
    /// </summary>
    public bool KillOnDispose { get; init; } = true;
}
