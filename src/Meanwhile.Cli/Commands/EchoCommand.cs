using System.CommandLine;
using Meanwhile.Http.Server;

namespace Meanwhile.Cli;

/// <summary><c>meanwhile echo</c>: the echo server (each request answered with a JSON description of itself).</summary>
internal static class EchoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var server = new ServerOptions("No access log (for benchmarks)");
        var command = new Command("echo", """
            An HTTP server that answers every request with 200 and a JSON description of what it parsed: method,
            target, version, headers, body. WebSocket handshakes on any path are accepted (ws://, and wss:// with
            TLS), permessage-deflate when the client offers it, and each message comes back as one message of the same
            kind (at most 16 MiB). Prints the address it listens on; Ctrl+C stops it gracefully.
            """);
        server.AddTo(command);
        command.SetAction((parse, _) => ServerHost.RunAsync("echo", WebSocketEcho.Around(EchoHandler.HandleAsync), server.Read(parse)));
        return command;
    }
}
