using System.CommandLine;

namespace Meanwhile.Cli.Commands;

/// <summary>Placeholder.</summary>
internal static class BenchCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create() => new("bench", "todo");
}
