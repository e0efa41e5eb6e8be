using Microsoft.Extensions.Logging;

namespace Meanwhile;

/// <summary>The loop's log messages (category <c>Meanwhile.Loop</c>), source-generated so a disabled level costs nothing.</summary>
internal static partial class LoopLog
{
    [LoggerMessage(1, LogLevel.Warning, "Slow turn on loop '{Loop}': {Who} ran {Milliseconds:0.0} ms in {Method} without awaiting, and no other task of the loop ran meanwhile (threshold {Threshold:0.#} ms)")]
    public static partial void SlowTurn(ILogger logger, string loop, string who, double milliseconds, string method, double threshold);
}
