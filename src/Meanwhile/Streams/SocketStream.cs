using System.Net;
using System.Net.Sockets;

namespace Meanwhile;

/// <summary>
/// A connected stream socket on the loop: TCP over IPv4 or IPv6, or a Unix domain socket.
/// Open one with <see cref="ConnectAsync(string, int, SocketStreamOptions?, CancellationToken)"/> or accept one from a <see cref="StreamListener"/>.
/// </summary>
public sealed class SocketStream : DataStream
{
    // The platform stream is the socket too (IConnectedSocket): no field of its own for it, 8 bytes less per connection.
    internal SocketStream(EventLoop loop, PlatformStream platform) : base(loop, platform)
    {
        if (platform is not IConnectedSocket) throw new ArgumentException("A socket stream needs a connected socket.", nameof(platform));
    }

    private IConnectedSocket Socket => (IConnectedSocket)Platform;

    /// <summary>This side's address.</summary>
    public EndPoint? LocalEndPoint => Socket.LocalEndPoint;

    /// <summary>The peer's address (null for an unnamed Unix socket).</summary>
    public EndPoint? RemoteEndPoint => Socket.RemoteEndPoint;

    /// <summary>
    /// The socket's file descriptor while the loop's epoll reactor drives it, for a system call the stream does not make
    /// itself (<c>sendfile</c>, <c>splice</c>, a socket option); -1 on the portable reactor, on a simulated network and
    /// once the stream is closed. The stream keeps owning it: never close it, and make it wait for room with
    /// <see cref="WaitWritableAsync"/>, not with a poll of your own.
    /// </summary>
    public int Descriptor => Platform is PolledDescriptorStream polled ? polled.Descriptor : -1;

    /// <summary>A read made on <see cref="Descriptor"/> by other code came back short: the socket is drained (see <see cref="PolledDescriptorStream.NoteDrained"/>).</summary>
    internal void NoteDrained()
    {
        if (Platform is PolledDescriptorStream polled) polled.NoteDrained();
    }

    /// <summary>
    /// Waits until the socket can take more bytes, after a write of your own on <see cref="Descriptor"/> failed with
    /// EAGAIN (tokio's <c>writable()</c>): the wait the stream's own writes make. Readiness is edge-triggered and a wait
    /// may end spuriously (on an edge from before): write until EAGAIN again before waiting again. One waiter at a time,
    /// and not while a <see cref="DataStream.WriteAsync"/> of the stream is pending.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <exception cref="InvalidOperationException">The stream has no descriptor (<see cref="Descriptor"/> is -1).</exception>
    public ValueTask WaitWritableAsync(CancellationToken cancellationToken = default)
    {
        Loop.CheckThread();
        if (Platform is PolledDescriptorStream { Descriptor: >= 0 } polled) return polled.WaitWritableAsync(cancellationToken);
        throw new InvalidOperationException($"{Description} has no descriptor to wait on (the portable reactor, a simulated network, or closed).");
    }

    /// <summary>
    /// Connects to <paramref name="host"/> (a name, an IPv4 or an IPv6 address) on <paramref name="port"/>. Names are
    /// resolved off the loop; each address is tried in turn until one accepts.
    /// </summary>
    /// <param name="host">Host name or address.</param>
    /// <param name="port">TCP port.</param>
    /// <param name="options">Socket options and connect timeout; null for the defaults.</param>
    /// <param name="cancellationToken">Abandons the attempt.</param>
    /// <exception cref="NameResolutionException">The name does not resolve.</exception>
    /// <exception cref="ConnectionRefusedException">Nothing listens there.</exception>
    /// <exception cref="ConnectionTimedOutException">The connect timeout passed first.</exception>
    public static Task<SocketStream> ConnectAsync(string host, int port, SocketStreamOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        options ??= SocketStreamOptions.Default;
        var loop = EventLoop.Current;
        // An address needs no resolution: straight to the reactor (a client opening 10,000 connections pays no
        // extra async layer, closure or string per connection). The timeout's lambdas live in methods of their own: C#
        // makes a lambda's closure when the method that holds it is entered, so here every connect would pay for it.
        if (IPAddress.TryParse(host, out var literal))
        {
            var endpoint = new IPEndPoint(literal, port);
            return options.ConnectTimeout is null ? loop.Platform.ConnectAsync(endpoint, options, cancellationToken).AsTask()
                : EndpointUnderTimeout(loop, options, host, port, endpoint, cancellationToken);
        }
        if (options.ConnectTimeout is null) return loop.Platform.ConnectAsync(host, port, options, cancellationToken).AsTask();
        return NameUnderTimeout(loop, options, host, port, cancellationToken);
    }

    private static Task<SocketStream> EndpointUnderTimeout(EventLoop loop, SocketStreamOptions options, object target, int? port, EndPoint endpoint,
        CancellationToken cancellationToken) =>
        WithConnectTimeout(loop, options, target, port, token => loop.Platform.ConnectAsync(endpoint, options, token).AsTask(), cancellationToken);

    private static Task<SocketStream> NameUnderTimeout(EventLoop loop, SocketStreamOptions options, string host, int port, CancellationToken cancellationToken) =>
        WithConnectTimeout(loop, options, host, port, token => loop.Platform.ConnectAsync(host, port, options, token).AsTask(), cancellationToken);

    /// <summary>Connects to <paramref name="endpoint"/>: an <see cref="IPEndPoint"/> or a <see cref="UnixDomainSocketEndPoint"/>.</summary>
    /// <param name="endpoint">Where to connect.</param>
    /// <param name="options">Socket options and connect timeout; null for the defaults.</param>
    /// <param name="cancellationToken">Abandons the attempt.</param>
    public static Task<SocketStream> ConnectAsync(EndPoint endpoint, SocketStreamOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        options ??= SocketStreamOptions.Default;
        var loop = EventLoop.Current;
        return options.ConnectTimeout is null ? loop.Platform.ConnectAsync(endpoint, options, cancellationToken).AsTask()
            : EndpointUnderTimeout(loop, options, endpoint, null, endpoint, cancellationToken);
    }

    /// <summary>Connects to the Unix domain socket at <paramref name="path"/>.</summary>
    /// <param name="path">The socket file.</param>
    /// <param name="cancellationToken">Abandons the attempt.</param>
    public static Task<SocketStream> ConnectUnixAsync(string path, CancellationToken cancellationToken = default) =>
        ConnectAsync(new UnixDomainSocketEndPoint(path), null, cancellationToken);

    // Runs connect under the options' connect timeout, if any; without one it is connect itself (no extra layer).
    // target (a host, with port, or an endpoint) is formatted only for the timeout's message.
    private static Task<SocketStream> WithConnectTimeout(EventLoop loop, SocketStreamOptions options, object target, int? port,
        Func<CancellationToken, Task<SocketStream>> connect, CancellationToken cancellationToken)
    {
        if (options.ConnectTimeout is not { } timeout)
            return connect(cancellationToken);
        return WithTimeoutAsync(loop, timeout, port is { } p ? $"{target}:{p}" : target.ToString() ?? "?", connect, cancellationToken);
    }

    private static async Task<SocketStream> WithTimeoutAsync(EventLoop loop, TimeSpan timeout, string target,
        Func<CancellationToken, Task<SocketStream>> connect, CancellationToken cancellationToken)
    {
        try
        {
            return await loop.WithTimeout(timeout, async scopeToken =>
            {
                using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, scopeToken) : null;
                return await connect(linked?.Token ?? scopeToken);
            });
        }
        catch (TimeoutException e)
        {
            throw new ConnectionTimedOutException("connect", Errno.ETIMEDOUT, $"{target} (no answer within {timeout.TotalSeconds:0.###} s: {e.Message})");
        }
    }
}
