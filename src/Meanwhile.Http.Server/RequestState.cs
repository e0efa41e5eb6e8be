namespace Meanwhile.Http.Server;

/// <summary>
/// What a connection needs only while it has a request to answer: the input reader with its parser, the request and
/// response handed to the handler, the body reader, the output writer, the handler's abort token and the watcher that
/// notices a client leaving. Most of a connection's objects, and an idle keep-alive connection has no use for them, so
/// a connection takes one from its loop's pool when bytes arrive and gives it back when it goes idle
/// (<see cref="LoopServer.RentRequestState"/>): 10,000 idle connections hold none, 64 busy ones share 64.
/// </summary>
internal sealed class RequestState
{
    private CancellationTokenSource? _abortSource;

    public RequestState(LoopServer server)
    {
        Server = server;
        Parser = new HttpRequestParser(server.Options.Limits);
        Input = new HttpInputReader(Parser, server.Options.ReadBufferBytes);
        Request = new ServerRequest(this);
        Response = new ServerResponse(this);
        Body = new RequestBodyReader(this);
        Output = new ResponseOutput(this);
    }

    public LoopServer Server { get; }

    /// <summary>The connection that rented this state; only meaningful while it is rented.</summary>
    public ServerConnection Connection { get; private set; } = null!;

    public HttpRequestParser Parser { get; }

    /// <summary>The read buffer and the parse loop over it: rented buffer, unparsed bytes, the body piece not taken yet.</summary>
    public HttpInputReader Input { get; }

    public ServerRequest Request { get; }

    public ServerResponse Response { get; }

    public RequestBodyReader Body { get; }

    public ResponseOutput Output { get; }

    /// <summary>How the connection awaits an asynchronous handler (resumed inline when it completes in the connection's task).</summary>
    public HandlerResumption HandlerResumption { get; } = new();

    /// <summary>While an asynchronous handler runs with nothing to read: the task watching for the client leaving.</summary>
    public ValueTask? Watcher { get; set; }

    /// <summary>The handler's token (made on first use): cancelled when the connection is aborted.</summary>
    public CancellationToken AbortToken
    {
        get
        {
            _abortSource ??= new CancellationTokenSource();
            if (Connection.IsAborted && !_abortSource.IsCancellationRequested) _abortSource.Cancel();
            return _abortSource.Token;
        }
    }

    /// <summary>Fires the handler's token, if it was asked for.</summary>
    public void CancelAbortToken()
    {
        if (_abortSource is { IsCancellationRequested: false } source)
        {
            try { source.Cancel(); }
            catch (AggregateException e) { ServerLog.ConnectionFailed(Server.Logger, e, Connection.Remote); }
        }
    }

    /// <summary>Gives the output buffers back to the shared pool: a state that will not be reused.</summary>
    public void ReleaseBuffers()
    {
        Output.Release();
        Response.ReleaseBuffers();
    }

    /// <summary>Binds the state to the connection that rented it.</summary>
    public void Attach(ServerConnection connection) => Connection = connection;

    /// <summary>
    /// Unbinds it, so a pooled state keeps no connection alive and holds no read buffer; its small output buffers stay
    /// for the next request (<see cref="ReleaseBuffers"/> when it will not be reused).
    /// </summary>
    public void Detach()
    {
        Input.Release();
        Output.Trim();
        Watcher = null;
        // A token nobody cancelled is reset for the next request (its registrations go); a cancelled one cannot be.
        if (_abortSource is { } source && !source.TryReset())
        {
            source.Dispose();
            _abortSource = null;
        }
        Connection = null!;
    }
}
