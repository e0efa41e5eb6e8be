namespace Meanwhile.Cli;

/// <summary>The tool's exit codes, in one place.</summary>
internal static class ExitCodes
{
    /// <summary>Everything worked.</summary>
    public const int Success = 0;

    /// <summary>The command ran and something it did failed (a download, a listener, the demo's run).</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong: unknown option, bad value, missing argument.</summary>
    public const int BadArguments = 2;
}
