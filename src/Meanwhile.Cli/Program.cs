// meanwhile: the tool a new user runs first. Each command lives in Commands/; this file only wires them and turns
// bad arguments into exit code 2 (the convention of getopt tools), which System.CommandLine would report as 1.
using System.CommandLine;
using System.CommandLine.Invocation;
using Meanwhile.Cli;

var root = new RootCommand("""
    Meanwhile: asynchronous I/O for .NET, on an event loop with its own epoll reactor.
    Start with `meanwhile demo`: it shows what a browser and a web server spend their time doing (waiting),
    and what an event loop does meanwhile.
    """)
{
    DemoCommand.Create(),
    ServeCommand.Create(),
    EchoCommand.Create(),
    FetchCommand.Create(),
    BenchCommand.Create(),
};

var parsed = root.Parse(args);
if (parsed.Action is ParseErrorAction)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"meanwhile: {error.Message}");
    Console.Error.WriteLine($"Try '{string.Join(' ', ["meanwhile", .. CommandPath(parsed)])} --help'.");
    return ExitCodes.BadArguments;
}
return await parsed.InvokeAsync();

static IEnumerable<string> CommandPath(ParseResult parsed)
{
    var names = new Stack<string>();
    for (var result = parsed.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        names.Push(result.Command.Name);
    return names;
}
