using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Meanwhile.Http.Server;

/// <summary>
/// An HTTP/1.1 server: <see cref="HttpServerOptions.Loops"/> event loops, each on its own thread with its own
/// SO_REUSEPORT listener on the same port (the kernel spreads connections), each running its handlers on the thread
/// epoll woke. <see cref="ServeAsync"/> runs the same server on a loop you already have.
/// </summary>
/// <remarks>
/// An idle keep-alive connection holds no buffer, no parser and no output buffer, only what waiting needs (see
/// docs/architecture.md; docs/benchmarks.md has its current memory against nginx's). A process whose memory is
/// mostly idle connections and whose handlers allocate can also run with <c>DOTNET_GCGen0MaxBudget=0x100000</c> and
/// <c>System.GC.RegionSize</c> = 1048576 (1 MiB gen0 budget, 1 MiB regions), at the cost of more gen0 collections.
/// The server sets no GC setting itself: they belong to the host.
/// </remarks>
/// <example>
/// <code>
/// var router = new Router().MapGet("/users/{id}", (request, response) =>
/// {
///     response.AddHeader("Content-Type", "text/plain");
///     response.Write(System.Text.Encoding.UTF8.GetBytes($"user {request.GetRouteValue("id")}"));
///     return ValueTask.CompletedTask;
/// });
/// await using var server = new HttpServer(router.HandleAsync, new HttpServerOptions { Port = 8080 });
/// await server.StartAsync();
/// await server.RunUntilSignalAsync(); // Ctrl+C or SIGTERM: finish the requests in flight, then return
/// </code>
/// </example>
public sealed class HttpServer : IAsyncDisposable
{
    private readonly Func<EventLoop, RequestHandler> _handlerPerLoop;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread[] _threads = [];
    private int _started;
    private int _cutAtShutdown;

    /// <summary>Creates a server; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="handler">Answers every request (a <see cref="Router"/>'s <c>HandleAsync</c>, <see cref="EchoHandler.HandleAsync"/>, your own).</param>
    /// <param name="options">Address, loops, limits, timeouts; null for the defaults.</param>
    public HttpServer(RequestHandler handler, HttpServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handlerPerLoop = _ => handler;
        Options = options ?? new HttpServerOptions();
    }

    /// <summary>
    /// Creates a server whose every loop gets a handler of its own, made by <paramref name="handlerPerLoop"/> on that
    /// loop's thread before it accepts: the place for per-loop state, such as a <c>LoopHttpClient</c>, a connection
    /// pool or a cache, which a loop's handlers then share without locks (loop-bound objects cannot be shared across
    /// loops). When the handler is a method of an <see cref="IAsyncDisposable"/> object (<c>new MyHandler(loop).HandleAsync</c>),
    /// that object is disposed on its loop once the loop has stopped serving.
    /// </summary>
    /// <example>
    /// <code>
    /// await using var server = new HttpServer(loop =>
    /// {
    ///     var http = new LoopHttpClient(); // this loop's client
    ///     return async (request, response) =>
    ///     {
    ///         using var upstream = await http.GetAsync("http://127.0.0.1:9000/price");
    ///         response.Write(await upstream.ReadAsBytesAsync());
    ///     };
    /// }, new HttpServerOptions { Port = 8080, Loops = 2 });
    /// </code>
    /// </example>
    /// <param name="handlerPerLoop">Called once per loop, on its thread, with that loop; returns the loop's handler.</param>
    /// <param name="options">Address, loops, limits, timeouts; null for the defaults.</param>
    public HttpServer(Func<EventLoop, RequestHandler> handlerPerLoop, HttpServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handlerPerLoop);
        _handlerPerLoop = handlerPerLoop;
        Options = options ?? new HttpServerOptions();
    }

    /// <summary>The options the server runs with.</summary>
    public HttpServerOptions Options { get; }

    /// <summary>The address the server listens on, once started (with the real port when port 0 was asked for).</summary>
    public IPEndPoint? EndPoint { get; private set; }

    /// <summary>The TCP port, once started.</summary>
    public int Port => EndPoint?.Port ?? 0;

    /// <summary>Completes when every loop has stopped (after <see cref="Stop"/> and the graceful shutdown); faults if a loop failed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Starts the loops and completes when all of them listen. The first loop binds (picking the port when it is 0);
    /// the others then bind the same port with SO_REUSEPORT.
    /// </summary>
    /// <remarks>
    /// When it fails (or is cancelled) nothing is left running: the loops that were listening already shut down, and
    /// <see cref="Completion"/> completes, so <see cref="DisposeAsync"/> returns at once.
    /// </remarks>
    /// <param name="cancellationToken">Abandons the wait for the loops to listen.</param>
    /// <exception cref="AddressInUseException">The port is taken.</exception>
    /// <exception cref="PermissionDeniedException">The port is privileged (below 1024) and the process may not bind it.</exception>
    /// <exception cref="SystemCallException">Another failure to listen, such as EADDRNOTAVAIL for an address this machine does not have.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested(); // before anything starts, so the server may be started later
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("The server was already started.");
        var address = IPAddress.Parse(Options.Host);
        int loops = Options.Loops;
        _threads = new Thread[loops];
        var finished = new List<Task>(loops);
        int port = Options.Port;
        try
        {
            for (int i = 0; i < loops; i++)
            {
                var listening = new TaskCompletionSource<IPEndPoint>(TaskCreationOptions.RunContinuationsAsynchronously);
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var endpoint = new IPEndPoint(address, port);
                int index = i;
                _threads[i] = new Thread(() => RunLoop(index, endpoint, loops > 1, listening, done))
                {
                    IsBackground = true,
                    Name = $"meanwhile http loop {i}",
                };
                _threads[i].Start();
                finished.Add(done.Task);
                EndPoint = await listening.Task.WaitAsync(cancellationToken);
                // WaitAsync returns a task that completed before it was called, cancelled or not: a start abandoned
                // while a loop was quicker to listen must fail all the same.
                cancellationToken.ThrowIfCancellationRequested();
                port = EndPoint.Port; // the next loops share the port the first one got
            }
        }
        catch
        {
            // The loops already listening stop (a loop still starting sees the stop as soon as it listens).
            Stop();
            try
            {
                await Task.WhenAll(finished);
            }
            catch (Exception)
            {
                // A loop that failed while stopping matters less than the failure being thrown.
            }
            EndPoint = null;
            _completion.TrySetResult();
            throw;
        }
        _ = Task.WhenAll(finished).ContinueWith(t =>
        {
            if (t.Exception is { } e) _completion.TrySetException(e.InnerExceptions);
            else _completion.TrySetResult();
        }, TaskScheduler.Default);
    }

    /// <summary>
    /// Connections that the last graceful shutdown closed at <see cref="HttpServerOptions.ShutdownTimeout"/> because
    /// their requests were still in progress; 0 when every request finished in time. Read it once
    /// <see cref="Completion"/> has completed.
    /// </summary>
    public int ConnectionsCutAtShutdown => Volatile.Read(ref _cutAtShutdown);

    private void RunLoop(int index, IPEndPoint endpoint, bool reusePort, TaskCompletionSource<IPEndPoint> listening, TaskCompletionSource finished)
    {
        try
        {
            var loopOptions = new EventLoopOptions { Reactor = Options.Reactor, TimeProvider = Options.TimeProvider, Diagnostics = Options.Diagnostics, Name = $"http {index}", LoggerFactory = Options.LoggerFactory };
            EventLoop.Run(async () =>
            {
                var loop = EventLoop.Current;
                StreamListener listener;
                LoopServer server;
                RequestHandler? handler = null;
                try
                {
                    handler = _handlerPerLoop(loop) ?? throw new InvalidOperationException("The per-loop handler factory returned null.");
                    server = new LoopServer(loop, handler, Options);
                    listener = StreamListener.ListenTcp(endpoint, new ListenOptions { ReusePort = reusePort });
                }
                catch (Exception e)
                {
                    // Reported by StartAsync, to its caller: the loop itself ends quietly.
                    listening.TrySetException(e);
                    if (handler?.Target is IAsyncDisposable made) await made.DisposeAsync();
                    return;
                }
                // Per-loop figures for meanwhile top (read on this loop when a snapshot is taken).
                using var connections = loop.AddSnapshotFigure("connections", () => server.ConnectionCount);
                using var requests = loop.AddSnapshotFigure("requests", () => server.RequestCount);
                ServerLog.Listening(server.Logger, listener.LocalEndPoint.ToString() ?? "?", index, loop.ReactorName);
                listening.TrySetResult((IPEndPoint)listener.LocalEndPoint);
                try
                {
                    await server.ServeAsync(listener, _stopping.Token);
                }
                finally
                {
                    // The loop's own state (a client, a pool) goes with the loop, on its thread.
                    if (handler.Target is IAsyncDisposable state) await state.DisposeAsync();
                }
                Interlocked.Add(ref _cutAtShutdown, server.ConnectionsCutAtShutdown);
            }, loopOptions);
            finished.TrySetResult();
        }
        catch (Exception e)
        {
            listening.TrySetException(e);
            finished.TrySetException(e);
        }
    }

    /// <summary>
    /// Begins the graceful shutdown from any thread (a SIGTERM handler, say): stop accepting, close idle connections,
    /// let requests in progress finish up to <see cref="HttpServerOptions.ShutdownTimeout"/>, then close the rest.
    /// Await <see cref="Completion"/> for the end.
    /// </summary>
    public void Stop()
    {
        try { _stopping.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// Serves until SIGINT (Ctrl+C) or SIGTERM, then shuts down gracefully (see <see cref="Stop"/>) and completes once
    /// every loop has finished. The first signal does not end the process: this method's caller decides what follows.
    /// A second signal during the shutdown ends the process at once, with the status a shell gives a process that
    /// signal killed (130 for SIGINT, 143 for SIGTERM), as a user pressing Ctrl+C twice expects.
    /// </summary>
    /// <param name="onSignal">Called (on the signal's thread) when a signal starts the shutdown, e.g. to log it.</param>
    /// <param name="onReload">
    /// For an HTTPS server, SIGHUP reloads the certificates (<see cref="ReloadCertificates"/>) and then calls this with
    /// the number reloaded and the failure, if any (the certificates in use then stay).
    /// </param>
    public async Task RunUntilSignalAsync(Action<PosixSignal>? onSignal = null, Action<int, CertificateLoadException?>? onReload = null)
    {
        int signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // the process exits by itself, once the requests in flight are answered
            if (Interlocked.Increment(ref signals) > 1)
            {
                // Explicit rather than the runtime's default action, which does nothing where SIGINT was ignored
                // (a job a script started in the background).
                Environment.Exit(128 + (context.Signal == PosixSignal.SIGINT ? 2 : 15));
            }
            onSignal?.Invoke(context.Signal);
            Stop();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var hangUp = Options.Https is null ? null : PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true; // SIGHUP reloads; it does not end the process
            try { onReload?.Invoke(ReloadCertificates(), null); }
            catch (CertificateLoadException e) { onReload?.Invoke(0, e); }
        });
        await Completion;
    }

    /// <summary>
    /// Loads the HTTPS certificates again from their files (<see cref="HttpsOptions.ReloadCertificates"/>): new
    /// handshakes use them, open connections keep theirs. All or nothing: on failure the ones in use stay.
    /// <see cref="RunUntilSignalAsync"/> calls it on SIGHUP. Safe from any thread.
    /// </summary>
    /// <returns>How many certificates were reloaded.</returns>
    /// <exception cref="InvalidOperationException">The server does not serve HTTPS.</exception>
    /// <exception cref="CertificateLoadException">A file cannot be read or its key does not match; nothing changed.</exception>
    public int ReloadCertificates()
    {
        var https = Options.Https ?? throw new InvalidOperationException("The server does not serve HTTPS: it has no certificates to reload.");
        var logger = Options.LoggerFactory?.CreateLogger("Meanwhile.Http.Server") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        try
        {
            int count = https.ReloadCertificates();
            ServerLog.CertificatesReloaded(logger, count);
            return count;
        }
        catch (CertificateLoadException e)
        {
            ServerLog.CertificateReloadFailed(logger, e);
            throw;
        }
    }

    /// <summary>Stops gracefully and waits until every loop has finished.</summary>
    public async Task StopAsync()
    {
        Stop();
        if (Volatile.Read(ref _started) != 0) await Completion;
    }

    /// <summary>Same as <see cref="StopAsync"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    /// <summary>
    /// Serves on the current loop (the calling thread's): accepts from <paramref name="listener"/> until
    /// <paramref name="stopping"/> fires, then shuts down gracefully and returns. For a single-loop server inside your
    /// own program, or one per loop of your own threads.
    /// </summary>
    /// <param name="listener">A listener of the current loop; disposed on return.</param>
    /// <param name="handler">Answers every request.</param>
    /// <param name="options">Limits and timeouts (address, port and loops are ignored here); null for defaults.</param>
    /// <param name="stopping">Starts the graceful shutdown; may fire on any thread.</param>
    public static Task ServeAsync(StreamListener listener, RequestHandler handler, HttpServerOptions? options = null, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(handler);
        var server = new LoopServer(listener.Loop, handler, options ?? new HttpServerOptions());
        return server.ServeAsync(listener, stopping);
    }
}
