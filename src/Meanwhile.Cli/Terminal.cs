using Spectre.Console;

namespace Meanwhile.Cli;

/// <summary>
/// Where the tool writes. Spectre.Console draws colours, live progress and tables on a terminal; when standard output
/// is a pipe or a file it emits no escape codes, and the tool skips live displays and writes plain lines, never
/// wrapped to an imagined width, so the output stays readable and greppable.
/// </summary>
internal static class Terminal
{
    /// <summary>True when stdout is an interactive terminal that understands escape codes.</summary>
    public static bool IsInteractive =>
        !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Ansi && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Writes a line of Spectre markup, in colour on a terminal, as plain text elsewhere.</summary>
    public static void Line(string markup = "")
    {
        if (IsInteractive) AnsiConsole.MarkupLine(markup);
        else Console.Out.WriteLine(Markup.Remove(markup));
    }

    /// <summary>Writes a renderable (a table): Spectre on a terminal; without a terminal, Spectre still lays it out, with no escape codes.</summary>
    public static void Write(Spectre.Console.Rendering.IRenderable renderable)
    {
        if (IsInteractive)
        {
            AnsiConsole.Write(renderable);
            return;
        }
        // Wide enough that a table is never wrapped by the 80 columns Spectre assumes without a terminal.
        var plain = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        plain.Profile.Width = 200;
        plain.Write(renderable);
    }

    /// <summary>Escapes text for markup.</summary>
    public static string Escape(string text) => Markup.Escape(text);

    /// <summary>Writes an error line to stderr.</summary>
    public static void Error(string message) => Console.Error.WriteLine($"meanwhile: {message}");
}
