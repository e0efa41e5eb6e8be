using Microsoft.Extensions.Logging;

namespace Meanwhile.Http.Server;

/// <summary>
/// The server's part on one loop: its listener, its connections, their deadlines (<see cref="ConnectionTimeouts"/>:
/// one timer per configured timeout, none per request), the pool of request states, and a one-second heartbeat that
/// refreshes the cached Date header.
/// </summary>
internal sealed class LoopServer
{
    // Enough for the connections busy at one moment; a burst beyond it leaves the extra states to the GC.
    private const int MaxPooledRequestStates = 256;

    private readonly List<ServerConnection> _connections = new();
    private readonly Stack<RequestState> _requestStates = new();
    private TaskCompletionSource? _drained;
    private TimerHandle? _heartbeat;
    private readonly byte[] _serverHeader = [];

    public LoopServer(EventLoop loop, RequestHandler handler, HttpServerOptions options)
    {
        Loop = loop;
        Handler = handler;
        Options = options;
        Logger = options.LoggerFactory?.CreateLogger("Meanwhile.Http.Server")
            ?? (options.DefaultLogWriter is { } writer ? new StandardErrorLogger(writer) : StandardErrorLogger.Instance);
        if (!string.IsNullOrEmpty(options.ServerHeader))
        {
            var field = new PooledByteBuffer(64);
            HttpHeadWriter.WriteField(field, "Server", options.ServerHeader);
            _serverHeader = field.WrittenSpan.ToArray();
            field.Release();
        }
        Timeouts = new ConnectionTimeouts(this);
        if (options.Https is { } https) Tls = new ServerTls(this, https);
    }

    /// <summary>The TLS handshakes of this loop's connections; null for plain HTTP.</summary>
    public ServerTls? Tls { get; }

    public EventLoop Loop { get; }

    public RequestHandler Handler { get; }

    public HttpServerOptions Options { get; }

    public ILogger Logger { get; }

    public DateHeader Date { get; } = new();

    /// <summary>The deadlines of this loop's connections.</summary>
    public ConnectionTimeouts Timeouts { get; }

    public bool IsStopping { get; private set; }

    public int ConnectionCount => _connections.Count;

    /// <summary>Requests this loop has handed to the handler, for its diagnostics (<c>meanwhile top</c>'s requests/s).</summary>
    public long RequestCount { get; set; }

    /// <summary>Connections the graceful shutdown closed at its deadline, their requests unfinished.</summary>
    public int ConnectionsCutAtShutdown { get; private set; }

    public long Now => Loop.Time.GetTimestamp();

    public void WriteServerHeader(PooledByteBuffer output)
    {
        if (_serverHeader.Length > 0) output.Write(_serverHeader);
    }

    /// <summary>Accepts and serves until <paramref name="stopping"/> fires; then shuts down gracefully.</summary>
    public async Task ServeAsync(StreamListener listener, CancellationToken stopping)
    {
        Date.Update(Loop.Time.GetUtcNow());
        ScheduleHeartbeat();
        // The token may fire on any thread; the listener belongs to the loop, so the stop is posted there.
        using var registration = stopping.UnsafeRegister(static state =>
        {
            var (server, listener) = ((LoopServer, StreamListener))state!;
            try { server.Loop.Post(() => server.BeginStop(listener)); }
            catch (ObjectDisposedException) { /* the loop is gone already */ }
        }, (this, listener));
        try
        {
            await AcceptLoopAsync(listener);
            await DrainAsync();
            await LoopFlushes.RunAsync(); // the access log's last lines, while the loop still runs
        }
        finally
        {
            _heartbeat?.Cancel();
            Timeouts.Clear();
            await listener.DisposeAsync();
        }
    }

    private async Task AcceptLoopAsync(StreamListener listener)
    {
        DescriptorReserve.Acquire();
        try
        {
            await AcceptUntilStoppedAsync(listener);
        }
        finally
        {
            DescriptorReserve.Return();
        }
    }

    private async Task AcceptUntilStoppedAsync(StreamListener listener)
    {
        while (!IsStopping)
        {
            // Out of descriptors (see DescriptorReserve): pause rather than spin, then try again. The retry calls
            // accept(2) itself rather than waiting for the listener to become readable: the connections waiting in the
            // backlog made their edge while accept failed, and no new edge comes for them.
            if (!DescriptorReserve.HasRoomToAccept())
            {
                await Loop.Delay(TimeSpan.FromMilliseconds(100));
                continue;
            }
            SocketStream stream;
            try
            {
                stream = await listener.AcceptAsync(); // not ConfigureAwait(false): the portable reactor completes it off the loop
            }
            catch (ObjectDisposedException)
            {
                break; // stopped
            }
            catch (TooManyOpenFilesException e)
            {
                ServerLog.AcceptFailed(Logger, e, listener.LocalEndPoint.ToString() ?? "?");
                DescriptorReserve.Release();
                await Loop.Delay(TimeSpan.FromMilliseconds(100));
                continue;
            }
            catch (SystemCallException e)
            {
                ServerLog.AcceptFailed(Logger, e, listener.LocalEndPoint.ToString() ?? "?");
                continue;
            }
            if (IsStopping)
            {
                await stream.DisposeAsync();
                break;
            }
            var connection = new ServerConnection(this, stream) { Slot = _connections.Count };
            _connections.Add(connection);
            ServerMetrics.Connections.Add(1);
            ServerMetrics.ActiveConnections.Add(1);
            Options.ConnectionObserver?.Invoke(1);
            _ = Loop.Spawn(connection.RunAsync, "http connection"); // never throws: it ends by closing its connection
        }
    }

    private void BeginStop(StreamListener listener)
    {
        if (IsStopping) return;
        IsStopping = true;
        ServerLog.ShuttingDown(Logger, _connections.Count);
        _ = listener.DisposeAsync(); // ends the pending accept
        for (int i = _connections.Count - 1; i >= 0; i--)
        {
            if (i < _connections.Count) _connections[i].OnShutdown();
        }
    }

    /// <summary>Waits for in-flight requests up to the shutdown deadline, then closes what is left.</summary>
    private async Task DrainAsync()
    {
        if (_connections.Count == 0) return;
        _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var deadline = Loop.Spawn(async token => await Loop.Delay(Options.ShutdownTimeout, token), "shutdown deadline");
        await Loop.WhenAny(_drained.Task, deadline);
        if (_connections.Count > 0)
        {
            ConnectionsCutAtShutdown = _connections.Count;
            for (int i = _connections.Count - 1; i >= 0; i--)
            {
                if (i < _connections.Count) _connections[i].Abort("shutdown deadline passed");
            }
            await _drained.Task;
        }
        deadline.Cancel();
    }

    /// <summary>A parser, request and response for a connection that has bytes to handle (loop thread).</summary>
    public RequestState RentRequestState(ServerConnection connection)
    {
        var state = _requestStates.TryPop(out var pooled) ? pooled : new RequestState(this);
        state.Attach(connection);
        return state;
    }

    /// <summary>
    /// Takes back a connection's state once its parser is idle. A pooled state keeps its parser's head store (about 1 KB)
    /// and its small output buffers (4.5 KiB of response head and body, 4 KiB of output): it belongs to no connection, and
    /// with every connection of a busy loop holding a head at once (64 requests in flight) the shared array pool, which
    /// keeps 32 arrays of a size per core, would miss and allocate one per request; below that, a rent and a return of
    /// each buffer per request (a proxy's state comes back after every request) cost more than writing the head.
    /// </summary>
    public void ReturnRequestState(RequestState state)
    {
        state.Detach();
        if (_requestStates.Count < MaxPooledRequestStates)
        {
            state.Parser.Reset();
            _requestStates.Push(state);
        }
        else
        {
            state.Parser.ReleaseBuffers();
            state.ReleaseBuffers();
        }
    }

    public void Remove(ServerConnection connection)
    {
        int slot = connection.Slot;
        if (slot < 0 || slot >= _connections.Count || _connections[slot] != connection) return;
        var last = _connections[^1];
        _connections[slot] = last;
        last.Slot = slot;
        _connections.RemoveAt(_connections.Count - 1);
        connection.Slot = -1;
        ServerMetrics.ActiveConnections.Add(-1);
        Options.ConnectionObserver?.Invoke(-1);
        if (_connections.Count == 0) _drained?.TrySetResult();
    }

    private void ScheduleHeartbeat() => _heartbeat = Loop.CallLater(TimeSpan.FromSeconds(1), Heartbeat);

    private void Heartbeat()
    {
        Date.Update(Loop.Time.GetUtcNow());
        ScheduleHeartbeat();
    }
}
