namespace Meanwhile;

/// <summary>
/// A process's diagnostics endpoint could not be asked: no such process, diagnostics off in it, the endpoint belongs to
/// another user, or it refused. The message says which, and what to do.
/// </summary>
public sealed class DiagnosticsUnavailableException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, in one sentence.</param>
    /// <param name="inner">The failure underneath, if any.</param>
    public DiagnosticsUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
