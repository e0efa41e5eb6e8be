namespace Meanwhile;

/// <summary>
/// The seam between the loop and the operating system; the only code that knows the OS lives behind it
/// (mio's <c>sys</c> layer). The contract, all of it:
/// <list type="bullet">
/// <item><see cref="Poll"/> is called by the loop thread only, when it has nothing ready to run. It blocks until a
/// registered descriptor becomes ready, <see cref="Wake"/> is called, or the timeout passes; it hands readiness to
/// the registrations (which queue the waiting tasks on the loop) and returns. Spurious returns are allowed.</item>
/// <item><see cref="Wake"/> may be called from any thread, any number of times; it makes the current or next
/// <see cref="Poll"/> return promptly.</item>
/// <item><see cref="Register"/> (loop thread) watches a descriptor for readability and writability until the
/// registration is disposed. Readiness is edge-triggered: a waiter must retry its system call until EAGAIN before
/// waiting again.</item>
/// </list>
/// </summary>
internal abstract class Reactor : IDisposable
{
    /// <summary>"epoll" or "portable".</summary>
    public abstract string Name { get; }

    /// <summary>Waits for readiness or a wake-up, at most <paramref name="timeoutMilliseconds"/> (-1: no limit).</summary>
    public abstract void Poll(int timeoutMilliseconds);

    /// <summary>Makes a blocked or upcoming <see cref="Poll"/> return. Thread-safe.</summary>
    public abstract void Wake();

    /// <summary>Whether <see cref="Register"/> is supported (raw descriptor readiness).</summary>
    public virtual bool SupportsDescriptors => false;

    /// <summary>Starts watching <paramref name="descriptor"/> (non-blocking) for readiness.</summary>
    public virtual IoRegistration Register(int descriptor) =>
        throw new PlatformNotSupportedException($"The {Name} reactor cannot watch raw file descriptors; descriptor readiness needs the epoll reactor (Linux).");

    /// <summary>Stops watching a registration's descriptor (loop thread).</summary>
    internal virtual void Deregister(IoRegistration registration) { }

    /// <summary>Descriptors registered now, for diagnostics; null where the reactor has none. Any thread; may be stale.</summary>
    public virtual int? RegistrationCount => null;

    /// <summary>What a descriptor is, for diagnostics ("tcp 127.0.0.1:8080 &lt;-&gt; 127.0.0.1:50412"); null if unknown.</summary>
    public virtual string? DescribeDescriptor(int descriptor) => null;

    public abstract void Dispose();

    /// <summary>Opens a connected stream socket to <paramref name="endpoint"/> (loop thread).</summary>
    public abstract ValueTask<SocketStream> ConnectAsync(EventLoop loop, System.Net.EndPoint endpoint, SocketStreamOptions options, CancellationToken cancellationToken);

    /// <summary>Binds and listens on <paramref name="endpoint"/> (loop thread).</summary>
    public abstract ListenerTransport Listen(EventLoop loop, System.Net.EndPoint endpoint, ListenOptions options);

    /// <summary>Starts a child process whose piped standard streams are streams of this reactor (loop thread).</summary>
    public abstract ProcessTransport StartProcess(EventLoop loop, ProcessStartRequest request);

    /// <summary>Opens an unbound UDP socket of <paramref name="family"/> (loop thread).</summary>
    public abstract DatagramTransport OpenDatagram(EventLoop loop, System.Net.Sockets.AddressFamily family);

    /// <summary>Makes the reactor asked for; <see cref="ReactorKind.Default"/> honours <c>MEANWHILE_REACTOR</c>.</summary>
    public static Reactor Create(EventLoop loop, ReactorKind kind)
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
            return new EpollReactor(loop);
        }
        return new PortableReactor();
    }
}
