using System.CommandLine;

namespace Meanwhile.Cli;

/// <summary>What <c>serve</c> and <c>echo</c> are told about listening and stopping, as read from the command line.</summary>
/// <param name="Host">Address to listen on.</param>
/// <param name="Port">Port (0: any free one).</param>
/// <param name="Loops">Event loops.</param>
/// <param name="AccessLog">Print one line per request.</param>
/// <param name="ShutdownTimeout">How long requests in flight may take once a signal asked the server to stop.</param>
/// <param name="Diagnostics">Whether the loops show to <c>meanwhile ps</c> and <c>meanwhile top</c>.</param>
internal sealed record ServerSettings(string Host, int Port, int Loops, bool AccessLog, Duration ShutdownTimeout, bool Diagnostics = true);

/// <summary>The options <c>serve</c> and <c>echo</c> share: where to listen, how many loops, the access log, the shutdown timeout.</summary>
internal sealed class ServerOptions
{
    private readonly Option<string> _host = Options.Host();
    private readonly Option<int> _port = Options.Port(8080);
    private readonly Option<int> _loops = Options.Loops();
    private readonly Option<bool> _quiet;
    private readonly Option<Duration> _shutdownTimeout = Options.Duration(
        "--shutdown-timeout", null,
        "On Ctrl+C or SIGTERM, how long requests in flight may take before their connections are cut (exit code 1 if any is); a second signal stops at once",
        TimeSpan.FromSeconds(5), allowZero: true);
    private readonly Option<bool> _noDiagnostics = new("--no-diagnostics")
    {
        Description = "Keep the loops out of `meanwhile ps` and `meanwhile top` (no diagnostics endpoint, no per-task timing)",
    };

    /// <summary>Creates the options; <paramref name="quietDescription"/> says what <c>--quiet</c> is for in this command.</summary>
    public ServerOptions(string quietDescription) => _quiet = new Option<bool>("--quiet", "-q") { Description = quietDescription };

    /// <summary>Adds them to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_host);
        command.Options.Add(_port);
        command.Options.Add(_loops);
        command.Options.Add(_quiet);
        command.Options.Add(_shutdownTimeout);
        command.Options.Add(_noDiagnostics);
    }

    /// <summary>Their values in <paramref name="parse"/>.</summary>
    public ServerSettings Read(ParseResult parse) =>
        new(parse.GetValue(_host)!, parse.GetValue(_port), parse.GetValue(_loops), !parse.GetValue(_quiet), parse.GetValue(_shutdownTimeout), !parse.GetValue(_noDiagnostics));
}
