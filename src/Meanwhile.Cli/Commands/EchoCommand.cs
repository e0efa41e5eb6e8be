using System.CommandLine;
using Meanwhile.Http.Server;

namespace Meanwhile.Cli;

/// <summary><c>meanwhile echo</c>: the echo server (each request answered with a JSON description of itself).</summary>
internal static class EchoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var host = Options.Host();
        var port = Options.Port(8080);
        var loops = Options.Loops();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No access log (for benchmarks)" };
        var command = new Command("echo", """
            An HTTP server that answers every request with 200 and a JSON description of what it parsed: method,
            target, version, headers, body. Prints the address it listens on; Ctrl+C stops it gracefully.
            """)
        { host, port, loops, quiet };
        command.SetAction((parse, _) => ServerHost.RunAsync("echo", EchoHandler.HandleAsync, parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(loops), !parse.GetValue(quiet)));
        return command;
    }
}
