
namespace Meanwhile;

/// <summary>
/// A program started from the loop, with its standard streams as <see cref="DataStream"/>s: write to its stdin, read
/// its stdout and stderr, await its exit, send it signals — while the loop runs the other tasks.
/// </summary>
/// <remarks>
/// <para>On the epoll reactor the child is spawned with posix_spawnp, its pipes are non-blocking descriptors on the
/// reactor, and its exit is seen through a pidfd (Linux 5.3+; older kernels are polled). On the portable reactor it
/// is a System.Diagnostics.Process. Either way the child is reaped as soon as it exits, so it never lingers as a
/// zombie.</para>
/// <para>Dispose it: <see cref="DisposeAsync"/> closes the parent's pipe ends and, by default, kills a child still
/// running (see <see cref="ChildProcessOptions.KillOnDispose"/>). Use it from the loop thread.</para>
/// </remarks>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly PlatformProcess _platform;
    private readonly bool _killOnDispose;
    private bool _disposed;

    private ChildProcess(EventLoop loop, string fileName, PlatformProcess platform, bool killOnDispose)
    {
        Loop = loop;
        FileName = fileName;
        _platform = platform;
        _killOnDispose = killOnDispose;
        StandardInput = platform.Input is { } input ? new DataStream(loop, input) : null;
        StandardOutput = platform.Output is { } output ? new DataStream(loop, output) : null;
        StandardError = platform.Error is { } error ? new DataStream(loop, error) : null;
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/> on the current loop. A name without a slash
    /// is looked up in PATH; a path with one is taken relative to the current directory.
    /// </summary>
    /// <param name="fileName">The program: a name looked up in PATH ("cat") or a path ("./tool", "/bin/sh").</param>
    /// <param name="arguments">Its arguments, passed as they are (no shell parsing); null for none.</param>
    /// <param name="options">Standard streams, working directory, environment; null for <see cref="ChildProcessOptions.Default"/>.</param>
    /// <returns>The running child.</returns>
    /// <exception cref="PathNotFoundException">The program (or the working directory) does not exist.</exception>
    /// <exception cref="PermissionDeniedException">The program is not executable.</exception>
    /// <exception cref="InvalidOperationException">No loop runs on this thread.</exception>
    public static ChildProcess Start(string fileName, IEnumerable<string>? arguments = null, ChildProcessOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        options ??= ChildProcessOptions.Default;
        var loop = EventLoop.Current;
        loop.CheckThread();
        var request = new ProcessStartRequest(fileName, arguments?.ToArray() ?? [], options);
        return new ChildProcess(loop, fileName, loop.Platform.StartProcess(request), options.KillOnDispose);
    }

    /// <summary>The loop the child's streams belong to.</summary>
    public EventLoop Loop { get; }

    /// <summary>The program, as given to <see cref="Start"/>.</summary>
    public string FileName { get; }

    /// <summary>The child's process id.</summary>
    public int Id => _platform.Id;

    /// <summary>The child's stdin, to write to; null unless it was started with <see cref="ProcessStdio.Pipe"/>. <see cref="DataStream.ShutdownWrite"/> (or disposing it) gives the child end of stream.</summary>
    public DataStream? StandardInput { get; }

    /// <summary>The child's stdout, to read; null unless it was started with <see cref="ProcessStdio.Pipe"/>.</summary>
    public DataStream? StandardOutput { get; }

    /// <summary>The child's stderr, to read; null unless it was started with <see cref="ProcessStdio.Pipe"/>.</summary>
    public DataStream? StandardError { get; }

    /// <summary>Whether the loop has seen the child end (and reaped it).</summary>
    public bool HasExited => _platform.Exit is not null;

    /// <summary>
    /// The exit code once the child has ended, else null: what it passed to exit(), or 128 + the signal number when a
    /// signal killed it (as a shell's <c>$?</c> shows it).
    /// </summary>
    public int? ExitCode => _platform.Exit?.ExitCode;

    /// <summary>The signal that killed the child, once it has ended that way; null while it runs or when it exited by itself.</summary>
    public ProcessSignal? Signal => _platform.Exit?.Signal;

    /// <summary>
    /// Waits until the child ends and returns its exit code (128 + signal when a signal killed it; see
    /// <see cref="Signal"/>). Any number of tasks may wait at once.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait early (the child keeps running); so does cancelling the calling task.</param>
    /// <returns>The exit code.</returns>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        Loop.CheckThread();
        return (await _platform.WaitForExitAsync(cancellationToken)).ExitCode;
    }

    /// <summary>Sends <paramref name="signal"/> to the child; does nothing once it has ended.</summary>
    /// <param name="signal">SIGTERM by default (the child may clean up); <see cref="ProcessSignal.Kill"/> cannot be caught.</param>
    /// <exception cref="PermissionDeniedException">The child changed its user id and the signal is not permitted.</exception>
    /// <exception cref="PlatformNotSupportedException">The portable reactor outside Linux can only send <see cref="ProcessSignal.Kill"/>.</exception>
    public void Kill(ProcessSignal signal = ProcessSignal.Terminate)
    {
        Loop.CheckThread();
        ObjectDisposedException.ThrowIf(_disposed, this);
        _platform.Kill(signal);
    }

    /// <summary>
    /// Closes the parent's ends of the pipes, then lets go of the child: if it is still running it is killed with
    /// SIGKILL and this completes once it is gone (<see cref="ChildProcessOptions.KillOnDispose"/>, the default), or
    /// it is left running, detached, and reaped when it exits. Safe to call twice.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        Loop.CheckThread();
        _disposed = true;
        if (StandardInput is { } input) await input.DisposeAsync();
        if (StandardOutput is { } output) await output.DisposeAsync();
        if (StandardError is { } error) await error.DisposeAsync();
        await _platform.CloseAsync(_killOnDispose);
    }

    /// <inheritdoc />
    public override string ToString() => $"process {Id} ({FileName}){(_platform.Exit is { } exit ? $", exited with {exit.ExitCode}" : "")}";
}
