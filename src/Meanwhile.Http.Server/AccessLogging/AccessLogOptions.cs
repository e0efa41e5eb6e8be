namespace Meanwhile.Http.Server;

/// <summary>How an <see cref="AccessLog"/> formats and buffers its lines.</summary>
/// <remarks>Immutable once built (init-only), so every loop of a server shares one instance.</remarks>
public sealed record AccessLogOptions
{
    /// <summary>The line format. Default: <see cref="AccessLogFormat.Combined"/>, as nginx.</summary>
    public AccessLogFormat Format { get; init; } = AccessLogFormat.Combined;

    /// <summary>
    /// How many bytes of lines each loop holds while its output is slow (a full pipe, a stalled terminal); lines that
    /// would not fit are dropped and counted (<see cref="AccessLog.DroppedLines"/>) rather than making the loop wait.
    /// Default: 256 KiB per loop (a few thousand lines).
    /// </summary>
    public int BufferBytes { get; init => field = value >= 4096 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least 4096 bytes."); } = 256 * 1024;

    /// <summary>
    /// Called with the number of lines dropped since the last call, at most once per <see cref="DropReportInterval"/>
    /// while lines are being dropped, on a thread-pool thread (never on a loop: the report may itself write to a slow
    /// output). Null (default) reports nothing; <see cref="AccessLog.DroppedLines"/> and the metric
    /// <c>meanwhile.http.server.access_log.dropped</c> count either way.
    /// </summary>
    public Action<long>? OnLinesDropped { get; init; }

    /// <summary>The shortest time between two <see cref="OnLinesDropped"/> calls. Default: 10 s.</summary>
    public TimeSpan DropReportInterval { get; init => field = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value)); } = TimeSpan.FromSeconds(10);

    /// <summary>How long a loop that is ending waits for its last lines to be written before counting them as dropped. Default: 1 s.</summary>
    public TimeSpan FinalFlushTimeout { get; init => field = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value)); } = TimeSpan.FromSeconds(1);
}
