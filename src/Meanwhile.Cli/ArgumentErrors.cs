using System.CommandLine;
using System.CommandLine.Parsing;

namespace Meanwhile.Cli;

/// <summary>
/// The lines printed for a command line the parser refused: what is wrong with it, most telling first. A word the
/// parser did not recognize is named as an unknown command, option or argument, and the parser's generic follow-ups
/// ("Required command was not provided" after an unknown command) are left out.
/// </summary>
internal static class ArgumentErrors
{
    /// <summary>One line per problem.</summary>
    public static IEnumerable<string> Describe(ParseResult parsed, RootCommand root)
    {
        var unmatched = parsed.UnmatchedTokens;
        bool atRoot = parsed.CommandResult.Command == root;
        string commands = string.Join(", ", root.Subcommands.Select(c => c.Name));
        if (atRoot && unmatched.Count == 0 && parsed.Errors.Count > 0 && !parsed.Errors.Any(e => e.SymbolResult is OptionResult))
        {
            yield return $"No command given; the commands are {commands}.";
            yield break;
        }
        foreach (var token in unmatched)
        {
            if (token.StartsWith('-')) yield return $"Unknown option '{token}'.";
            else if (atRoot) yield return $"Unknown command '{token}'; the commands are {commands}.";
            else yield return $"Unexpected argument '{token}'.";
        }
        foreach (var error in parsed.Errors)
        {
            // The parser's own line for a token named above, and its "no command" when the command was unknown.
            if (unmatched.Any(token => error.Message.Contains($"'{token}'", StringComparison.Ordinal))) continue;
            if (atRoot && unmatched.Count > 0 && error.SymbolResult is CommandResult) continue;
            yield return error.Message;
        }
    }

    /// <summary>The subcommands from the root to the one parsed ("serve").</summary>
    public static IEnumerable<string> CommandPath(ParseResult parsed)
    {
        var names = new Stack<string>();
        for (var result = parsed.CommandResult; result.Parent is CommandResult parent; result = parent)
            names.Push(result.Command.Name);
        return names;
    }
}
