using System.Net;
using System.Net.Sockets;

namespace Meanwhile;

/// <summary>
/// A listening socket on the loop (TCP or Unix domain) that accepts <see cref="SocketStream"/>s.
/// A Unix socket file it created is removed when it is disposed.
/// </summary>
public sealed class StreamListener : IAsyncDisposable
{
    private readonly PlatformListener _platform;
    private readonly string? _unixPath;
    private int _closed;

    private StreamListener(EventLoop loop, PlatformListener platform, string? unixPath)
    {
        Loop = loop;
        _platform = platform;
        _unixPath = unixPath;
    }

    /// <summary>The loop it belongs to.</summary>
    public EventLoop Loop { get; }

    /// <summary>The bound address (with the real port when port 0 was asked for).</summary>
    public EndPoint LocalEndPoint => _platform.LocalEndPoint;

    /// <summary>The bound TCP port (0 for a Unix socket).</summary>
    public int Port => (LocalEndPoint as IPEndPoint)?.Port ?? 0;

    /// <summary>Listens on TCP <paramref name="endpoint"/> (port 0: any free port).</summary>
    /// <param name="endpoint">Address and port.</param>
    /// <param name="options">Backlog, address reuse, options of accepted connections.</param>
    /// <exception cref="AddressInUseException">Something already listens there.</exception>
    public static StreamListener ListenTcp(IPEndPoint endpoint, ListenOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var loop = EventLoop.Current;
        loop.CheckThread();
        return new StreamListener(loop, loop.Platform.Listen(endpoint, options ?? ListenOptions.Default), null);
    }

    /// <summary>Listens on the Unix domain socket <paramref name="path"/>, which must not exist yet.</summary>
    /// <param name="path">The socket file to create.</param>
    /// <param name="options">Backlog.</param>
    /// <exception cref="AddressInUseException">The path exists.</exception>
    public static StreamListener ListenUnix(string path, ListenOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var loop = EventLoop.Current;
        loop.CheckThread();
        return new StreamListener(loop, loop.Platform.Listen(new UnixDomainSocketEndPoint(path), options ?? ListenOptions.Default), path);
    }

    /// <summary>Waits for the next connection.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="TooManyOpenFilesException">The process has no descriptors left (the listener stays usable).</exception>
    public ValueTask<SocketStream> AcceptAsync(CancellationToken cancellationToken = default)
    {
        Loop.CheckThread();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        return _platform.AcceptAsync(cancellationToken);
    }

    /// <summary>Stops listening; a pending accept ends with <see cref="ObjectDisposedException"/>; a Unix socket file is removed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        await _platform.CloseAsync();
        if (_unixPath is not null)
        {
            try { File.Delete(_unixPath); }
            catch (IOException) { /* already gone */ }
        }
    }
}
