namespace Meanwhile.Http.Server;

/// <summary>
/// What a connection needs only while it has a request to answer: the parser (with its head), the request and the
/// response objects handed to the handler. Most of a connection's objects, and an idle keep-alive connection has no
/// use for them, so a connection takes one from its loop's pool when bytes arrive and gives it back when it goes idle
/// (<see cref="LoopServer.RentRequestState"/>): 10,000 idle connections hold none, 64 busy ones share 64.
/// </summary>
internal sealed class RequestState
{
    public RequestState(HttpServerOptions options)
    {
        Parser = new HttpRequestParser(options.Limits);
        Request = new ServerRequest();
        Response = new ServerResponse();
    }

    public HttpRequestParser Parser { get; }

    public ServerRequest Request { get; }

    public ServerResponse Response { get; }

    /// <summary>The connection's responses until they are flushed; empty, with no array, once the state goes back.</summary>
    public PooledByteBuffer Output { get; } = new(4096);

    // The connection's progress through the request body (fields, so the connection can take refs to them): body bytes
    // delimited in its read buffer but not taken yet, and the minimum-data-rate clock.
    public int BodyStart;
    public int BodyLength;
    public long BodyWaitTicks;
    public long BodyWaitStart;
    public bool BodyWaiting;

    /// <summary>Binds the request and response to the connection that rented this state.</summary>
    public void Attach(HttpConnection connection)
    {
        Request.Attach(connection);
        Response.Attach(connection);
        BodyStart = BodyLength = 0;
        BodyWaitTicks = BodyWaitStart = 0;
        BodyWaiting = false;
    }

    /// <summary>Unbinds it, so a pooled state keeps no connection alive.</summary>
    public void Detach()
    {
        Output.Release();
        Request.Attach(null);
        Response.Attach(null);
    }
}
