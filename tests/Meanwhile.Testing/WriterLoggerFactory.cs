using Microsoft.Extensions.Logging;

namespace Meanwhile.Testing;

/// <summary>
/// Loggers that write each entry to one writer ("warning Meanwhile.Http.Server: message", then the exception), for a
/// test that reads what a server logged through its public <c>LoggerFactory</c> option. Safe from several loops.
/// </summary>
public sealed class WriterLoggerFactory(TextWriter writer) : ILoggerFactory
{
    private readonly TextWriter _writer = TextWriter.Synchronized(writer);

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new WriterLogger(_writer, categoryName);

    /// <inheritdoc />
    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("A test's logger factory writes to its writer only.");

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class WriterLogger(TextWriter writer, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string line = $"{logLevel.ToString().ToLowerInvariant()} {category}: {formatter(state, exception)}";
            writer.WriteLine(exception is null ? line : $"{line}{Environment.NewLine}{exception}");
        }
    }
}
