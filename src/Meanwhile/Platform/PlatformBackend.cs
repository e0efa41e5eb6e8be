using System.Net;
using System.Net.Sockets;

namespace Meanwhile;

/// <summary>
/// Everything a loop needs from the operating system, in one place (asyncio's <c>AbstractEventLoop</c> lists every OS
/// operation the same way): its <see cref="Poller"/>, worker threads, name resolution, sockets, files, pipes, devices,
/// standard streams and child processes. Streams never call platform code themselves; they ask the backend of their
/// loop. Three backends: <c>epoll</c> (Linux system calls on non-blocking descriptors), <c>portable</c> (.NET's
/// sockets and processes, waited on with select) and <c>simulated</c> (hosts, network and disk in memory, on virtual
/// time; see Simulation).
/// </summary>
/// <remarks>
/// One backend per loop, made with it and disposed with it. Every member but <see cref="Poller"/>'s <c>Wake</c> is for
/// the loop thread. The objects it returns are the platform halves of the public types: <see cref="PlatformStream"/>
/// behind a <see cref="DataStream"/>, <see cref="PlatformListener"/> behind a <see cref="StreamListener"/>,
/// <see cref="PlatformDatagramSocket"/> behind a <see cref="DatagramSocket"/>, <see cref="PlatformProcess"/> behind a
/// <see cref="ChildProcess"/>, <see cref="IPlatformFile"/> behind a <see cref="FileDataStream"/>.
/// </remarks>
internal abstract class PlatformBackend : IDisposable
{
    protected PlatformBackend(EventLoop loop) => Loop = loop;

    protected EventLoop Loop { get; }

    /// <summary>"epoll", "portable" or "simulated".</summary>
    public abstract string Name { get; }

    /// <summary>What the loop waits in between turns.</summary>
    public abstract Poller Poller { get; }

    /// <summary>
    /// Runs blocking work off the loop (<see cref="EventLoop.RunOnWorker{T}(Func{T}, CancellationToken)"/>): on the thread
    /// pool here; a simulation runs it on its own thread, at a moment its seed decides.
    /// </summary>
    public virtual void QueueWorker(IThreadPoolWorkItem work) => ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: false);

    /// <summary>The addresses of <paramref name="host"/>, in the order to try them. getaddrinfo blocks: a worker runs it.</summary>
    public virtual async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await Loop.RunOnWorker(() => Dns.GetHostAddresses(host), cancellationToken);
        }
        catch (SocketException e)
        {
            throw new NameResolutionException(host, e);
        }
        return addresses.Length > 0 ? addresses : throw new NameResolutionException(host, null);
    }

    /// <summary>
    /// Opens a connected TCP socket to <paramref name="host"/> (a name) on <paramref name="port"/>: resolves the name,
    /// then tries each address in turn until one accepts.
    /// </summary>
    public virtual async ValueTask<SocketStream> ConnectAsync(string host, int port, SocketStreamOptions options, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(host, cancellationToken);
        Exception? last = null;
        foreach (var address in addresses)
        {
            try
            {
                return await ConnectAsync(new IPEndPoint(address, port), options, cancellationToken);
            }
            catch (SystemCallException e) when (address != addresses[^1])
            {
                last = e; // try the next address
            }
        }
        throw last!;
    }

    /// <summary>Opens a connected stream socket to <paramref name="endpoint"/> (TCP or Unix).</summary>
    public abstract ValueTask<SocketStream> ConnectAsync(EndPoint endpoint, SocketStreamOptions options, CancellationToken cancellationToken);

    /// <summary>Binds and listens on <paramref name="endpoint"/> (TCP or Unix).</summary>
    public abstract PlatformListener Listen(EndPoint endpoint, ListenOptions options);

    /// <summary>Opens an unbound UDP socket of <paramref name="family"/>.</summary>
    public abstract PlatformDatagramSocket OpenDatagram(AddressFamily family);

    /// <summary>Starts a child process whose piped standard streams are streams of this backend.</summary>
    public abstract PlatformProcess StartProcess(ProcessStartRequest request);

    /// <summary>Opens any path as a stream: a FIFO, a device, or a regular file (then a <see cref="FileDataStream"/>).</summary>
    public abstract Task<DataStream> OpenAsync(string path, FileAccess access, CancellationToken cancellationToken);

    /// <summary>Opens a regular file for positioned reads and writes.</summary>
    public abstract Task<FileDataStream> OpenFileAsync(string path, FileMode mode, FileAccess access, CancellationToken cancellationToken);

    /// <summary>Opens the regular file <paramref name="relativePath"/> below <paramref name="directory"/> for reading, never leaving it.</summary>
    public abstract Task<FileDataStream> OpenFileBeneathAsync(string directory, string relativePath, CancellationToken cancellationToken);

    /// <summary>An anonymous pipe: what is written to the writer is read from the reader.</summary>
    public abstract (DataStream Reader, DataStream Writer) CreatePipe();

    /// <summary>The process's standard stream <paramref name="fd"/> (0, 1 or 2) as a stream of this loop.</summary>
    public abstract DataStream OpenStandardStream(int fd);

    /// <summary>Releases the poller and whatever else the backend holds.</summary>
    public virtual void Dispose() => Poller.Dispose();

    /// <summary>The names of the standard streams, by descriptor.</summary>
    public static readonly string[] StandardStreamNames = ["stdin", "stdout", "stderr"];

    /// <summary>Makes the backend asked for; <see cref="ReactorKind.Default"/> honours <c>MEANWHILE_REACTOR</c>.</summary>
    public static PlatformBackend Create(EventLoop loop, ReactorKind kind)
    {
        if (kind == ReactorKind.Default)
        {
            kind = Environment.GetEnvironmentVariable("MEANWHILE_REACTOR")?.Trim().ToLowerInvariant() switch
            {
                null or "" => OperatingSystem.IsLinux() ? ReactorKind.Epoll : ReactorKind.Portable,
                "epoll" => ReactorKind.Epoll,
                "portable" => ReactorKind.Portable,
                var other => throw new InvalidOperationException($"MEANWHILE_REACTOR is '{other}'; it must be 'epoll' or 'portable'."),
            };
        }
        if (kind == ReactorKind.Epoll)
        {
            if (!OperatingSystem.IsLinux())
                throw new PlatformNotSupportedException("The epoll reactor needs Linux; use ReactorKind.Portable.");
            return new LinuxBackend(loop);
        }
        return new PortableBackend(loop);
    }
}
