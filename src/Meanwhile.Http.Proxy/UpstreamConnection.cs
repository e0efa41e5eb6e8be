namespace Meanwhile.Http.Proxy;

/// <summary>
/// One kept-alive connection to an upstream, owned by one loop: the socket, the response parser with its input, the
/// output buffer the request head is written into, and its deadline. The connection is its own entry in the handler's
/// deadline queues (connect aside, which the socket times itself), so a timeout costs no object per request.
/// </summary>
/// <remarks>
/// A leaner twin of the client's connection: the proxy forwards heads as bytes and never needs the client's strings,
/// redirects, decompression or pipelining, so a forwarded request allocates nothing here. Idle in the pool it holds
/// no read buffer (the parser keeps its small head store). Loop thread only.
/// </remarks>
internal sealed class UpstreamConnection : DeadlineQueue.Entry
{
    public UpstreamConnection(Upstream upstream, SocketStream stream, int readBufferBytes)
    {
        Upstream = upstream;
        Stream = stream;
        Parser = new HttpResponseParser();
        Input = new HttpInputReader(Parser, readBufferBytes);
    }

    public Upstream Upstream { get; }

    public SocketStream Stream { get; }

    public HttpResponseParser Parser { get; }

    public HttpInputReader Input { get; }

    /// <summary>The request head (and body pieces) on their way out.</summary>
    public PooledByteBuffer Output { get; } = new(1024);

    /// <summary>Responses read to their end on this connection; above 0 it was kept alive, and may have been closed by the upstream meanwhile.</summary>
    public int Completed { get; set; }

    /// <summary>What the running deadline guards; <see cref="UpstreamWait.None"/> when none runs.</summary>
    public UpstreamWait Waiting { get; private set; }

    /// <summary>Set when a deadline passed: what was being waited for, which the failure then names.</summary>
    public UpstreamWait ExpiredWhile { get; private set; }

    /// <summary>Position in the upstream's idle list while pooled; -1 otherwise.</summary>
    public int IdleSlot { get; set; } = -1;

    public bool IsClosed { get; private set; }

    /// <summary>Starts the deadline for <paramref name="wait"/> in <paramref name="queue"/> (moving it from any other queue).</summary>
    public void Guard(DeadlineQueue queue, UpstreamWait wait)
    {
        Waiting = wait;
        queue.Start(this);
    }

    /// <summary>Stops the running deadline.</summary>
    public void Unguard()
    {
        Waiting = UpstreamWait.None;
        Stop();
    }

    protected override void OnExpired()
    {
        ExpiredWhile = Waiting;
        Waiting = UpstreamWait.None;
        if (ExpiredWhile == UpstreamWait.Idle) Upstream.RemoveIdle(this);
        Close();
    }

    /// <summary>Closes the socket; a read or write pending on it ends with an error. Safe to call twice.</summary>
    public void Close()
    {
        if (IsClosed) return;
        IsClosed = true;
        Stop();
        // A read may still be pending on the buffer: the GC takes it back rather than the pool handing it out again.
        Input.Abandon();
        Output.Release();
        _ = Stream.DisposeAsync();
    }

    /// <summary>Gives the socket to a <see cref="Tunnel"/>: the buffers go back to the pool, the socket stays open and is the tunnel's to close.</summary>
    public SocketStream Detach()
    {
        IsClosed = true;
        Stop();
        Input.Release();
        Output.Release();
        return Stream;
    }
}

/// <summary>What an upstream connection's deadline guards.</summary>
internal enum UpstreamWait
{
    None,
    Idle,
    ResponseHead,
    Body,
}
