namespace Meanwhile;

/// <summary>
/// What the loop waits in between turns (mio's <c>Selector</c>): register, wait, wake, nothing else. Each
/// <see cref="PlatformBackend"/> brings its own. The contract, all of it:
/// <list type="bullet">
/// <item><see cref="Poll"/> is called by the loop thread only, when it has nothing ready to run (or, with work ready,
/// without blocking every few hundred items). It blocks until a registered source becomes ready, <see cref="Wake"/> is
/// called, or the timeout passes; it hands readiness to the registrations (which queue the waiting tasks on the loop)
/// and returns. Spurious returns are allowed.</item>
/// <item><see cref="Wake"/> may be called from any thread, any number of times; it makes the current or next
/// <see cref="Poll"/> return promptly.</item>
/// <item><see cref="Register"/> (loop thread) watches a descriptor for readability and writability until the
/// registration is disposed (which calls <see cref="Deregister"/>). Readiness may be edge-triggered: a waiter must
/// retry its operation until it would block before waiting again.</item>
/// </list>
/// </summary>
internal abstract class Poller : IDisposable
{
    /// <summary>Waits for readiness or a wake-up, at most <paramref name="timeoutMilliseconds"/> (-1: no limit).</summary>
    public abstract void Poll(int timeoutMilliseconds);

    /// <summary>Makes a blocked or upcoming <see cref="Poll"/> return. Thread-safe.</summary>
    public abstract void Wake();

    /// <summary>Whether <see cref="Register"/> is supported (raw descriptor readiness).</summary>
    public virtual bool SupportsDescriptors => false;

    /// <summary>Starts watching <paramref name="descriptor"/> (non-blocking) for readiness.</summary>
    public virtual IoRegistration Register(int descriptor) =>
        throw new PlatformNotSupportedException("This loop's platform cannot watch raw file descriptors; descriptor readiness needs the epoll reactor (Linux).");

    /// <summary>
    /// Starts reporting a registration's writability, the first time a writer waits (loop thread). A poller that watches
    /// both directions from the start does nothing here.
    /// </summary>
    internal virtual void WatchWritable(IoRegistration registration) { }

    /// <summary>
    /// Stops watching a registration's source (loop thread). <paramref name="descriptorClosing"/>: the caller closes the
    /// descriptor next, which a poller may count on to forget it.
    /// </summary>
    internal virtual void Deregister(IoRegistration registration, bool descriptorClosing) { }

    /// <summary>
    /// Whether a poll could report anything but a wake-up: false while no source is registered. The loop then skips the
    /// non-blocking polls it makes between runs of ready work (a wake-up only says that work was posted, which the loop
    /// sees without a system call); it still blocks here when nothing is ready.
    /// </summary>
    public virtual bool HasSources => true;

    /// <summary>Descriptors registered now, for diagnostics; null where the poller has none. Any thread; may be stale.</summary>
    public virtual int? RegistrationCount => null;

    /// <summary>What a descriptor is, for diagnostics ("tcp 127.0.0.1:8080 &lt;-&gt; 127.0.0.1:50412"); null if unknown.</summary>
    public virtual string? DescribeDescriptor(int descriptor) => null;

    public abstract void Dispose();
}
