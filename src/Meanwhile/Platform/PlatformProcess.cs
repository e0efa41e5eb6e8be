namespace Meanwhile;

/// <summary>How a child process ended: its exit code, and the signal that killed it, if one did.</summary>
/// <param name="ExitCode">The code it passed to exit(), or 128 + the signal number when a signal killed it (as shells report it).</param>
/// <param name="Signal">The signal that killed it; null when it exited by itself.</param>
internal readonly record struct ProcessExit(int ExitCode, ProcessSignal? Signal)
{
    /// <summary>A process that a signal killed: exit code 128 + signal, as sh reports it in <c>$?</c>.</summary>
    public static ProcessExit Killed(int signal) => new(128 + signal, (ProcessSignal)signal);
}

/// <summary>What to start: the program, its arguments (argv[1..]) and the options.</summary>
internal sealed record ProcessStartRequest(string FileName, IReadOnlyList<string> Arguments, ChildProcessOptions Options);

/// <summary>
/// The reactor side of a <see cref="ChildProcess"/>: how the child is started, watched, signalled and reaped on this
/// reactor (posix_spawn and a pidfd on epoll, System.Diagnostics.Process on the portable reactor). Loop thread only.
/// </summary>
internal abstract class PlatformProcess
{
    /// <summary>The operating system's process id.</summary>
    public abstract int Id { get; }

    /// <summary>The parent's end of the child's stdin, when it is a pipe.</summary>
    public PlatformStream? Input { get; protected init; }

    /// <summary>The parent's end of the child's stdout, when it is a pipe.</summary>
    public PlatformStream? Output { get; protected init; }

    /// <summary>The parent's end of the child's stderr, when it is a pipe.</summary>
    public PlatformStream? Error { get; protected init; }

    /// <summary>How the child ended, once the loop has seen it end (and reaped it); null before.</summary>
    public abstract ProcessExit? Exit { get; }

    /// <summary>Completes when the child has ended and been reaped. Any number of callers may wait.</summary>
    public abstract Task<ProcessExit> WaitForExitAsync(CancellationToken cancellationToken);

    /// <summary>Sends <paramref name="signal"/>; does nothing once the child has ended.</summary>
    public abstract void Kill(ProcessSignal signal);

    /// <summary>
    /// Lets go of the child. A child still running is killed with SIGKILL and awaited when <paramref name="killIfRunning"/> is
    /// true; otherwise it keeps running and is reaped when it exits, without the loop.
    /// </summary>
    public abstract ValueTask CloseAsync(bool killIfRunning);
}
