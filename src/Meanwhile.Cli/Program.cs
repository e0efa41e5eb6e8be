// meanwhile: the tool a new user runs first. Each command lives in Commands/; this file only wires them and turns
// bad arguments into one line each and exit code 2 (the convention of getopt tools), which System.CommandLine would
// report as 1.
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
    ProxyCommand.Create(),
    FetchCommand.Create(),
    WsCommand.Create(),
    BenchCommand.Create(),
    PsCommand.Create(),
    TopCommand.Create(),
};

var parsed = root.Parse(args);
if (parsed.Action is ParseErrorAction)
{
    foreach (var line in ArgumentErrors.Describe(parsed, root)) Terminal.Error(line);
    Console.Error.WriteLine($"Try '{string.Join(' ', ["meanwhile", .. ArgumentErrors.CommandPath(parsed)])} --help'.");
    return ExitCodes.BadArguments;
}
// No ProcessTerminationTimeout: System.CommandLine would end the process 2 s after Ctrl+C, cutting the graceful
// shutdown of serve and echo short. Those handle their signals themselves; the other commands end at once, by default.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
