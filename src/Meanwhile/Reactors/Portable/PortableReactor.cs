namespace Meanwhile;

/// <summary>
/// The reactor for platforms without epoll (and for tests on Linux, with <c>MEANWHILE_REACTOR=portable</c>):
/// I/O goes through .NET's own async socket APIs, whose completions come back to the loop through its posted
/// queue; this reactor only has to sleep until such a post, a <see cref="Wake"/>, or the next timer.
/// </summary>
internal sealed class PortableReactor : Reactor
{
    // An auto-reset event: a wake that arrives while the loop is busy is kept for its next Poll.
    private readonly AutoResetEvent _wake = new(false);
    private int _disposed;

    public override string Name => "portable";

    public override void Poll(int timeoutMilliseconds) => _wake.WaitOne(timeoutMilliseconds);

    public override void Wake()
    {
        if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(PortableReactor));
        _wake.Set();
    }

    public override ValueTask<SocketStream> ConnectAsync(EventLoop loop, System.Net.EndPoint endpoint, SocketStreamOptions options, CancellationToken cancellationToken) =>
        PortableSockets.ConnectAsync(loop, endpoint, options, cancellationToken);

    public override ListenerTransport Listen(EventLoop loop, System.Net.EndPoint endpoint, ListenOptions options) =>
        PortableSockets.Listen(loop, endpoint, options);

    public override ProcessTransport StartProcess(EventLoop loop, ProcessStartRequest request) =>
        PortableProcess.Start(loop, request);

    public override DatagramTransport OpenDatagram(EventLoop loop, System.Net.Sockets.AddressFamily family) =>
        new PortableDatagramTransport(loop, family);

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _wake.Dispose();
    }
}
