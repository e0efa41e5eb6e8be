namespace Meanwhile.Http.Server;

/// <summary>
/// One loop's part of an <see cref="AccessLog"/>: lines are formatted straight into a bounded buffer on the loop
/// thread, and a writer task sends what gathered during a loop turn in one write while the next lines gather in a
/// second buffer. A line that does not fit is dropped and counted; the loop never waits for the output.
/// </summary>
/// <remarks>
/// Several loops may share one pipe or terminal, so a write to anything but a regular file is cut at a line boundary
/// within PIPE_BUF (4096 bytes): the kernel writes such a piece to a pipe whole, and lines from two loops never mix.
/// </remarks>
internal sealed class AccessLogWriter
{
    private const int PipeAtomicBytes = 4096;
    private readonly AccessLog _log;
    private readonly EventLoop _loop;
    private readonly LogClock _clock = new();
    private readonly LoopManualResetEvent _wake = new(name: "access log lines");
    private readonly LoopManualResetEvent _idle = new(initialState: true, name: "access log written");
    private byte[] _pending;
    private byte[] _sending;
    private int _pendingLength;
    private int _pendingLines;
    private int _sendingLines;
    private int _writingLines;
    private bool _broken;

    public AccessLogWriter(AccessLog log, EventLoop loop)
    {
        _log = log;
        _loop = loop;
        _pending = new byte[log.Options.BufferBytes];
        _sending = new byte[log.Options.BufferBytes];
        // Posted so the writer is a task of the loop itself, not a child of the request that first logged (whose end
        // would cancel it).
        loop.Post(() => loop.Spawn(WriteLinesAsync, "access log writer"));
        LoopFlushes.Register(FlushAsync);
    }

    public EventLoop Loop => _loop;

    public AccessLog Log => _log;

    /// <summary>Adds one request's line, or counts it dropped when the buffer is full.</summary>
    public void Append(ServerRequest request, int status, long bytes, TimeSpan elapsed)
    {
        _clock.Update(_loop.Time.GetUtcNow());
        int length = _broken ? -1 : AccessLogLine.Format(_pending.AsSpan(_pendingLength), _log.Options.Format, _clock, request, status, bytes, elapsed);
        if (length < 0)
        {
            _log.CountDropped(1);
            return;
        }
        _pendingLength += length;
        _pendingLines++;
        _idle.Reset();
        _wake.Set();
    }

    private async Task WriteLinesAsync(CancellationToken stop)
    {
        DataStream stream;
        try
        {
            stream = await _log.OpenOutputAsync(stop);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Break(e);
            return;
        }
        await using (stream)
        {
            // A regular file's write, or any write on a worker thread, runs to its end even once abandoned.
            bool writesOutlive = stream is FileDataStream || stream.WritesOutliveCancellation;
            try
            {
                while (true)
                {
                    await _wake.WaitAsync(stop);
                    _wake.Reset();
                    // Everything formatted since the last write goes in this one; new lines gather in the other buffer.
                    (_pending, _sending) = (_sending, _pending);
                    int length = _pendingLength;
                    _sendingLines = _pendingLines;
                    _pendingLength = _pendingLines = 0;
                    await WriteAsync(stream, _sending.AsMemory(0, length), stream is FileDataStream);
                    if (_pendingLength == 0) _idle.Set();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The loop is ending and FlushAsync already had its chance: what is left was not written, but for the
                // lines of a write in flight that outlives its cancellation (a regular file's, a worker's: they arrive).
                _log.CountDropped(_pendingLines + _sendingLines - (writesOutlive ? _writingLines : 0));
                _pendingLines = _sendingLines = _writingLines = 0;
            }
            catch (Exception e)
            {
                Break(e); // EPIPE (nobody reads any more), a full disk: the lines from here on are dropped
            }
        }
    }

    /// <summary>
    /// Writes one batch; <see cref="_sendingLines"/> counts the lines not written yet, <see cref="_writingLines"/> those
    /// of the write in flight.
    /// </summary>
    private async ValueTask WriteAsync(DataStream stream, ReadOnlyMemory<byte> batch, bool regularFile)
    {
        while (!batch.IsEmpty)
        {
            int cut = batch.Length;
            if (!regularFile && cut > PipeAtomicBytes)
            {
                int lastNewline = batch.Span[..PipeAtomicBytes].LastIndexOf((byte)'\n');
                cut = lastNewline >= 0 ? lastNewline + 1 : batch.Span.IndexOf((byte)'\n') + 1; // a single longer line goes whole
            }
            _writingLines = regularFile ? _sendingLines : batch.Span[..cut].Count((byte)'\n');
            await stream.WriteAsync(batch[..cut]);
            _sendingLines -= _writingLines;
            _writingLines = 0;
            batch = batch[cut..];
        }
    }

    /// <summary>At the loop's end: waits (at most <see cref="AccessLogOptions.FinalFlushTimeout"/>) for the buffered lines to be written.</summary>
    private async ValueTask FlushAsync()
    {
        if (_idle.IsSet || _broken) return;
        using var timeout = new CancellationTokenSource();
        var timer = _loop.CallLater(_log.Options.FinalFlushTimeout, timeout.Cancel);
        try
        {
            await _idle.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _log.CountDropped(_pendingLines); // the output did not take them in time
            _pendingLines = _pendingLength = 0;
        }
        finally
        {
            timer.Cancel();
        }
    }

    private void Break(Exception e)
    {
        _broken = true;
        _log.CountDropped(_pendingLines + _sendingLines);
        _pendingLines = _pendingLength = _sendingLines = _writingLines = 0;
        _idle.Set();
        _log.ReportFailure(e);
    }
}
