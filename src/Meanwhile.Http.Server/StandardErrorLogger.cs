using Microsoft.Extensions.Logging;

namespace Meanwhile.Http.Server;

/// <summary>
/// The logger of a server given no <see cref="HttpServerOptions.LoggerFactory"/>: warnings and errors, one line each
/// (plus the exception) on standard error, so a handler that throws is never silent. Node prints an uncaught error,
/// asyncio logs "Task exception was never retrieved", Kestrel logs to the console by default: a bare 500 with nothing
/// said is what users of those would not expect. Lower levels are dropped, so the hot path pays one compare.
/// </summary>
internal sealed class StandardErrorLogger(TextWriter? writer = null) : ILogger
{
    public static StandardErrorLogger Instance { get; } = new();

    // Console.Error is synchronized: lines from several loops never interleave. Opened here, when the server starts,
    // not at the first line: that line may be the one saying the process is out of descriptors (EMFILE).
    private readonly TextWriter _writer = writer ?? Console.Error;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string level = logLevel switch { LogLevel.Warning => "warning", LogLevel.Error => "error", _ => "critical" };
        string line = $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} meanwhile http server {level}: {formatter(state, exception)}";
        try
        {
            _writer.WriteLine(exception is null ? line : $"{line}{Environment.NewLine}{exception}");
        }
        catch (IOException)
        {
            // standard error is gone or full: the line is lost, the server goes on
        }
    }
}
