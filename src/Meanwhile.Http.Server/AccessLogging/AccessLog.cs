using System.Diagnostics;

namespace Meanwhile.Http.Server;

/// <summary>
/// An access log that never makes the server wait: one line per request (<see cref="AccessLogFormat"/>), formatted on
/// the loop thread into a bounded buffer and written through the loop's own asynchronous stream, in one write per loop
/// turn. When the output is slower than the requests (a full pipe, a stalled terminal, a slow disk) the lines that do
/// not fit are dropped and counted instead (nginx blocks its worker there).
/// </summary>
/// <example>
/// <code>
/// var log = AccessLog.ToStandardOutput(new AccessLogOptions { Format = AccessLogFormat.Json });
/// await using var server = new HttpServer(log.Wrap(files.HandleAsync));
/// </code>
/// </example>
/// <remarks>
/// <para>Each loop of a server keeps its own buffer (<see cref="AccessLogOptions.BufferBytes"/>) and its own stream on
/// the output; a loop that ends waits up to <see cref="AccessLogOptions.FinalFlushTimeout"/> for its last lines.
/// Thread-safe: one instance serves every loop.</para>
/// <para>Dropped lines are counted in <see cref="DroppedLines"/> and the metric
/// <c>meanwhile.http.server.access_log.dropped</c>, and reported through <see cref="AccessLogOptions.OnLinesDropped"/>.</para>
/// </remarks>
public sealed class AccessLog
{
    [ThreadStatic]
    private static AccessLogWriter? s_lastWriter;
    private readonly Func<CancellationToken, Task<DataStream>> _open;
    private readonly List<AccessLogWriter> _writers = [];
    private long _dropped;
    private long _droppedReported;
    private long _lastReport = Stopwatch.GetTimestamp();
    private int _failureReported;

    private AccessLog(Func<CancellationToken, Task<DataStream>> open, string destination, AccessLogOptions? options)
    {
        _open = open;
        Destination = destination;
        Options = options ?? new AccessLogOptions();
    }

    /// <summary>A log written to the process's standard output (whatever it is: terminal, pipe, file).</summary>
    /// <param name="options">Format and buffering; null for the defaults.</param>
    public static AccessLog ToStandardOutput(AccessLogOptions? options = null) =>
        new(_ => Task.FromResult(StandardStreams.OpenOutput()), "standard output", options);

    /// <summary>
    /// A log appended to <paramref name="path"/>, created if missing. A FIFO or a character device (<c>/dev/stderr</c>)
    /// is opened as a stream instead. The path is tried here, so a bad one fails now, not at the first request.
    /// </summary>
    /// <param name="path">The log file.</param>
    /// <param name="options">Format and buffering; null for the defaults.</param>
    /// <exception cref="IOException">The file cannot be opened for appending; the message says why.</exception>
    public static AccessLog ToFile(string path, AccessLogOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        // A FIFO, a terminal, /dev/stderr: opened as a stream (O_APPEND and creating mean nothing there).
        if (OperatingSystem.IsLinux() && LinuxNative.StatPath(full, out int type, out _) == 0 && type != LinuxNative.S_IFREG)
        {
            if (type == LinuxNative.S_IFDIR) throw new IOException($"cannot open the access log {full}: it is a directory");
            return new(token => DataStream.OpenAsync(full, FileAccess.Write, token), full, options);
        }
        try
        {
            using var probe = File.OpenHandle(full, FileMode.Append, FileAccess.Write);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"cannot open the access log {full}: {e.Message}", e);
        }
        return new(async token => await DataStream.OpenFileAsync(full, FileMode.Append, FileAccess.Write, token), full, options);
    }

    /// <summary>Where the lines go: <c>standard output</c>, or the log file's full path.</summary>
    public string Destination { get; }

    /// <summary>The options this log runs with.</summary>
    public AccessLogOptions Options { get; }

    /// <summary>Lines dropped so far because the output did not keep up (or failed).</summary>
    public long DroppedLines => Interlocked.Read(ref _dropped);

    /// <summary>Wraps <paramref name="handler"/> so every request it answers is logged when the handler returns.</summary>
    /// <param name="handler">The handler to log.</param>
    public RequestHandler Wrap(RequestHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return (request, response) =>
        {
            long start = Stopwatch.GetTimestamp();
            ValueTask pending;
            try
            {
                pending = handler(request, response);
            }
            catch
            {
                Record(request, response.HasStarted ? response.StatusCode : 500, response.BytesWritten, Stopwatch.GetElapsedTime(start));
                throw;
            }
            if (pending.IsCompletedSuccessfully)
            {
                Record(request, response, Stopwatch.GetElapsedTime(start));
                return ValueTask.CompletedTask;
            }
            return LogWhenDone(pending, request, response, start);
        };
    }

    private async ValueTask LogWhenDone(ValueTask pending, ServerRequest request, ServerResponse response, long start)
    {
        try
        {
            await pending;
        }
        catch
        {
            // The server answers 500 if nothing went out yet; the line says what the client gets.
            Record(request, response.HasStarted ? response.StatusCode : 500, response.BytesWritten, Stopwatch.GetElapsedTime(start));
            throw;
        }
        Record(request, response, Stopwatch.GetElapsedTime(start));
    }

    /// <summary>Logs one answered request (for handlers that time themselves). Call it on the request's loop.</summary>
    /// <param name="request">The request.</param>
    /// <param name="response">Its response: the status and the body bytes written are logged.</param>
    /// <param name="elapsed">How long the answer took.</param>
    public void Record(ServerRequest request, ServerResponse response, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(response);
        Record(request, response.StatusCode, response.BytesWritten, elapsed);
    }

    private void Record(ServerRequest request, int status, long bytes, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(request);
        var loop = EventLoop.Current;
        var writer = s_lastWriter;
        if (writer is null || writer.Log != this || writer.Loop != loop) s_lastWriter = writer = WriterFor(loop);
        writer.Append(request, status, bytes, elapsed);
    }

    private AccessLogWriter WriterFor(EventLoop loop)
    {
        lock (_writers)
        {
            foreach (var existing in _writers)
                if (existing.Loop == loop) return existing;
            var writer = new AccessLogWriter(this, loop);
            _writers.Add(writer);
            return writer;
        }
    }

    internal Task<DataStream> OpenOutputAsync(CancellationToken cancellationToken) => _open(cancellationToken);

    internal void CountDropped(long lines)
    {
        if (lines <= 0) return;
        long total = Interlocked.Add(ref _dropped, lines);
        ServerMetrics.AccessLogDropped.Add(lines);
        if (Options.OnLinesDropped is not { } report) return;
        long now = Stopwatch.GetTimestamp();
        long last = Interlocked.Read(ref _lastReport);
        if (Stopwatch.GetElapsedTime(last, now) < Options.DropReportInterval || Interlocked.CompareExchange(ref _lastReport, now, last) != last) return;
        long since = total - Interlocked.Exchange(ref _droppedReported, total);
        // Never on the loop: the report may write to an output as slow as this one.
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.report(state.since), (report, since), preferLocal: false);
    }

    internal void ReportFailure(Exception e)
    {
        if (Interlocked.Exchange(ref _failureReported, 1) == 0) Failure = e;
    }

    /// <summary>The error that stopped the log (the output closed, the disk is full), if one did; lines after it are dropped.</summary>
    public Exception? Failure { get; private set; }
}
