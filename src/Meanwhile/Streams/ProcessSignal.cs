namespace Meanwhile;

/// <summary>
/// Signals a <see cref="ChildProcess"/> can be sent or can die of. The values are the Linux signal numbers; any other
/// number can be cast to this type.
/// </summary>
public enum ProcessSignal
{
    /// <summary>SIGHUP: the controlling terminal went away; daemons often reload their configuration.</summary>
    Hangup = 1,
    /// <summary>SIGINT: what Ctrl+C sends.</summary>
    Interrupt = 2,
    /// <summary>SIGQUIT: quit with a core dump.</summary>
    Quit = 3,
    /// <summary>SIGKILL: ends the process at once; it cannot be caught or ignored.</summary>
    Kill = 9,
    /// <summary>SIGUSR1: application-defined.</summary>
    User1 = 10,
    /// <summary>SIGUSR2: application-defined.</summary>
    User2 = 12,
    /// <summary>SIGPIPE: the process wrote to a pipe nobody reads any more.</summary>
    Pipe = 13,
    /// <summary>SIGALRM: a timer expired.</summary>
    Alarm = 14,
    /// <summary>SIGTERM: asks the process to end; it may clean up first (the default of <see cref="ChildProcess.Kill"/>).</summary>
    Terminate = 15,
    /// <summary>SIGCONT: resumes a stopped process.</summary>
    Continue = 18,
    /// <summary>SIGSTOP: stops (pauses) the process; it cannot be caught.</summary>
    Stop = 19,
}
