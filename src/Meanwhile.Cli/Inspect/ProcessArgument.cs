using System.CommandLine;

namespace Meanwhile.Cli;

/// <summary>The process <c>ps</c> and <c>top</c> look into, and the connection to its diagnostics endpoint.</summary>
internal static class ProcessArgument
{
    /// <summary>The PID argument.</summary>
    public static Argument<int> Create()
    {
        var pid = new Argument<int>("pid") { Description = "The process to look into: a Meanwhile program with diagnostics on (meanwhile serve and echo have them on; elsewhere MEANWHILE_DIAGNOSTICS=1)" };
        pid.Validators.Add(result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (!int.TryParse(text, out int value) || value <= 0) result.AddError($"PID must be a process id (a whole number above 0), not '{text}'.");
        });
        pid.CustomParser = result => int.TryParse(result.Tokens.Count > 0 ? result.Tokens[0].Value : "", out int value) ? value : 0;
        return pid;
    }

    /// <summary>
    /// Connects to <paramref name="pid"/>'s endpoint, or says in one line why not (no such process, diagnostics off, not
    /// the caller's process) and returns null.
    /// </summary>
    public static async Task<LoopDiagnosticsClient?> ConnectAsync(int pid, CancellationToken cancellationToken)
    {
        try
        {
            return await LoopDiagnosticsClient.ConnectAsync(pid, cancellationToken);
        }
        catch (DiagnosticsUnavailableException e)
        {
            Terminal.Error(e.Message);
            return null;
        }
    }
}
