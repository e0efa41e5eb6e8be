using System.Runtime.InteropServices;
using System.Text;
using static Meanwhile.LinuxNative;

namespace Meanwhile;

/// <summary>
/// A child process on the epoll reactor: started with posix_spawnp, its pipes non-blocking descriptors on the
/// reactor, its exit watched through a pidfd (readable once the child has exited) and collected with waitid.
/// </summary>
/// <remarks>
/// <para>The exit watcher starts with the child and reaps it as soon as it exits, whether or not anyone waits, so a
/// finished child never lingers as a zombie. It runs outside any task (started from a loop callback): it belongs to
/// the process, not to whichever task called <see cref="ChildProcess.Start"/>, and cancelling that task must not
/// stop it. While the child runs, the watch counts as a wait on the outside world, so a virtual clock does not jump
/// over a running child.</para>
/// <para>.NET's own SIGCHLD handler (System.Diagnostics.Process) reaps only the children it started itself, unless
/// SIGCHLD was ignored when the runtime started or the program runs as pid 1; then it reaps every child, ours
/// included, and waitid reports ECHILD (see <see cref="TryReap"/>).</para>
/// </remarks>
internal sealed class SpawnedProcess : PlatformProcess
{
    private readonly EventLoop _loop;
    private readonly string _name;
    private readonly TaskCompletionSource<ProcessExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IoRegistration? _pidfdRegistration;
    private int _pidfd;
    private bool _waitByPidfd; // waitid(P_PIDFD) needs Linux 5.4; pidfd_open alone is 5.3
    private bool _detached;    // let go while running: a reaper thread owns the child now
    private ProcessExit? _exit;

    private SpawnedProcess(EventLoop loop, int pid, int pidfd, string name, PlatformStream? input, PlatformStream? output, PlatformStream? error)
    {
        _loop = loop;
        Id = pid;
        _pidfd = pidfd;
        _waitByPidfd = pidfd >= 0;
        _name = name;
        Input = input;
        Output = output;
        Error = error;
    }

    public override int Id { get; }

    public override ProcessExit? Exit => _exit;

    private string Subject => $"process {Id} ({_name})";

    /// <summary>Spawns the child; throws a typed error when it cannot start (missing program, not executable, bad directory).</summary>
    public static unsafe SpawnedProcess Start(EventLoop loop, ProcessStartRequest request)
    {
        var options = request.Options;
        string program = ProgramPath(request.FileName);
        if (options.WorkingDirectory is { } directory && !Directory.Exists(directory))
            throw new PathNotFoundException("chdir", Errno.ENOENT, directory);

        // The parent's ends of the pipes, then the child's ends; -1 where there is no pipe.
        Span<int> parentEnds = [-1, -1, -1];
        Span<int> childEnds = [-1, -1, -1];
        var modes = new[] { options.StandardInput, options.StandardOutput, options.StandardError };
        void* fileActions = NativeMemory.AllocZeroed(SpawnOpaqueSize);
        void* attributes = NativeMemory.AllocZeroed(SpawnOpaqueSize);
        void* sigset = NativeMemory.AllocZeroed(SigsetSize);
        bool fileActionsReady = false, attributesReady = false;
        NativeStrings argv = default, envp = default;
        int* fds = stackalloc int[2];
        try
        {
            for (int stdFd = 0; stdFd < 3; stdFd++)
            {
                if (modes[stdFd] != ProcessStdio.Pipe) continue;
                // O_CLOEXEC on both ends: a child spawned meanwhile by another thread must not inherit them (it would
                // hold the pipe open and the reader would never see end of stream). dup2 in the child clears it.
                if (pipe2(fds, O_CLOEXEC) < 0) throw SystemErrors.From("pipe2", LastErrno, $"stdio of {request.FileName}");
                bool childReads = stdFd == 0;
                parentEnds[stdFd] = childReads ? fds[1] : fds[0];
                childEnds[stdFd] = AboveStandardDescriptors(childReads ? fds[0] : fds[1]);
                // Only the parent's end is non-blocking: the child expects ordinary blocking stdio.
                if (SetNonBlocking(parentEnds[stdFd], true) < 0) throw SystemErrors.From("fcntl", LastErrno, $"pipe fd {parentEnds[stdFd]}");
            }

            Check(posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init");
            fileActionsReady = true;
            if (options.WorkingDirectory is { } workingDirectory)
                Check(posix_spawn_file_actions_addchdir_np(fileActions, workingDirectory), "posix_spawn_file_actions_addchdir_np");
            for (int stdFd = 0; stdFd < 3; stdFd++)
            {
                if (modes[stdFd] == ProcessStdio.Pipe)
                    Check(posix_spawn_file_actions_adddup2(fileActions, childEnds[stdFd], stdFd), "posix_spawn_file_actions_adddup2");
                else if (modes[stdFd] == ProcessStdio.Null)
                    Check(posix_spawn_file_actions_addopen(fileActions, stdFd, "/dev/null", stdFd == 0 ? O_RDONLY : O_WRONLY, 0), "posix_spawn_file_actions_addopen");
            }

            Check(posix_spawnattr_init(attributes), "posix_spawnattr_init");
            attributesReady = true;
            // The child starts with no blocked signal, and with SIGPIPE back to its default: the .NET runtime ignores
            // SIGPIPE, an ignored signal survives exec, and `producer | head` relies on SIGPIPE ending the producer.
            sigemptyset(sigset);
            Check(posix_spawnattr_setsigmask(attributes, sigset), "posix_spawnattr_setsigmask");
            sigaddset(sigset, SIGPIPE);
            Check(posix_spawnattr_setsigdefault(attributes, sigset), "posix_spawnattr_setsigdefault");
            Check(posix_spawnattr_setflags(attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF), "posix_spawnattr_setflags");

            argv = NativeStrings.Create([request.FileName, .. request.Arguments]);
            envp = NativeStrings.Create(EnvironmentFor(options));
            int pid;
            // posix_spawnp searches PATH for a bare name, and reports exec's failure (ENOENT, EACCES) as its result.
            int error = posix_spawnp(&pid, program, fileActions, attributes, argv.Pointer, envp.Pointer);
            if (error != 0) throw SystemErrors.From("posix_spawnp", error, request.FileName);

            int pidfd = pidfd_open(pid);
            if (pidfd < 0 && LastErrno != Errno.ENOSYS)
            {
                // The child runs but cannot be watched; do not leave it behind.
                int errno = LastErrno;
                kill(pid, (int)ProcessSignal.Kill);
                byte* info = stackalloc byte[SiginfoSize];
                waitid(P_PID, pid, info, WEXITED);
                throw SystemErrors.From("pidfd_open", errno, $"process {pid} ({request.FileName})");
            }

            string name = Path.GetFileName(request.FileName);
            var process = new SpawnedProcess(loop, pid, pidfd, name,
                Pipe(loop, parentEnds[0], $"stdin of process {pid} ({name})"),
                Pipe(loop, parentEnds[1], $"stdout of process {pid} ({name})"),
                Pipe(loop, parentEnds[2], $"stderr of process {pid} ({name})"));
            parentEnds.Fill(-1); // the transports own them now
            process.StartWatching();
            return process;
        }
        finally
        {
            // The child has its own copies of its ends (or never started); the parent must close them, or it would
            // never see end of stream on the child's stdout.
            foreach (int fd in childEnds) if (fd >= 0) close(fd);
            foreach (int fd in parentEnds) if (fd >= 0) close(fd);
            if (fileActionsReady) posix_spawn_file_actions_destroy(fileActions);
            if (attributesReady) posix_spawnattr_destroy(attributes);
            NativeMemory.Free(fileActions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(sigset);
            argv.Dispose();
            envp.Dispose();
        }

        static void Check(int error, string call)
        {
            if (error != 0) throw SystemErrors.From(call, error, null);
        }
    }

    /// <summary>
    /// A path with a slash is made absolute against the parent's directory, because the child resolves it only after
    /// changing to its own working directory. A bare name is left for posix_spawnp's PATH search.
    /// </summary>
    private static string ProgramPath(string fileName) => fileName.Contains('/') ? Path.GetFullPath(fileName) : fileName;

    /// <summary>
    /// Moves a child's pipe end off descriptors 0-2 (possible only when the parent closed its own stdio), so a dup2
    /// onto one standard descriptor cannot overwrite another child end before its own dup2.
    /// </summary>
    private static int AboveStandardDescriptors(int fd)
    {
        if (fd > 2) return fd;
        int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        int errno = LastErrno;
        close(fd);
        if (moved < 0) throw SystemErrors.From("fcntl", errno, $"fd {fd}");
        return moved;
    }

    private static PolledDescriptorStream? Pipe(EventLoop loop, int fd, string description) =>
        fd < 0 ? null : new PolledDescriptorStream(loop, fd, DescriptorKind.Pipe, description);

    /// <summary>The environment .NET sees (it keeps its own copy; Environment.SetEnvironmentVariable does not change libc's), with the caller's changes.</summary>
    private static List<string> EnvironmentFor(ChildProcessOptions options)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        if (options.Environment is { } changes)
        {
            foreach (var (key, value) in changes)
            {
                if (key.Length == 0 || key.Contains('=')) throw new ArgumentException($"'{key}' is not a valid environment variable name.", nameof(options));
                if (value is null) variables.Remove(key);
                else variables[key] = value;
            }
        }
        var result = new List<string>(variables.Count);
        foreach (var (key, value) in variables) result.Add($"{key}={value}");
        return result;
    }

    /// <summary>Starts the exit watcher on the loop's next turn, outside the calling task (see remarks).</summary>
    private void StartWatching()
    {
        if (_pidfd >= 0) _pidfdRegistration = _loop.Register(_pidfd);
        _loop.CallSoon(() => _ = WatchAsync());
    }

    private async Task WatchAsync()
    {
        try
        {
            if (_pidfdRegistration is { } registration)
            {
                // The pidfd becomes readable when the child exits; waits may wake spuriously, so reap until it works.
                while (!TryReap()) await registration.WaitReadableAsync();
            }
            else
            {
                // No pidfd (Linux before 5.3): poll, quickly at first for short-lived children, then every 100 ms.
                int delay = 1;
                while (!TryReap())
                {
                    await _loop.Delay(TimeSpan.FromMilliseconds(delay));
                    delay = Math.Min(delay * 2, 100);
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // Closed while the child runs (detached, or the loop shut down): waiters learn it from CloseAsync.
        }
        catch (Exception e)
        {
            _exited.TrySetException(e);
        }
    }

    /// <summary>Collects the child's exit status if it has exited (without blocking); true once it is reaped.</summary>
    private unsafe bool TryReap()
    {
        if (_exit is not null || _detached) return true;
        byte* info = stackalloc byte[SiginfoSize];
        while (true)
        {
            new Span<byte>(info, SiginfoSize).Clear();
            int result = _waitByPidfd ? waitid(P_PIDFD, _pidfd, info, WEXITED | WNOHANG) : waitid(P_PID, Id, info, WEXITED | WNOHANG);
            if (result == 0) break;
            int errno = LastErrno;
            if (errno == Errno.EINTR) continue;
            if (errno == Errno.EINVAL && _waitByPidfd)
            {
                // Linux 5.3 has pidfd_open but not P_PIDFD. The pid is safe to use: our unreaped child keeps it.
                _waitByPidfd = false;
                continue;
            }
            if (errno == Errno.ECHILD)
                throw new SystemCallException("waitid", errno,
                    $"{Subject}: someone else reaped it, so its exit status is lost (.NET reaps every child when it runs as pid 1 or SIGCHLD was ignored)");
            throw SystemErrors.From("waitid", errno, Subject);
        }
        if (*(int*)(info + SiginfoPidOffset) == 0) return false; // still running
        int code = *(int*)(info + SiginfoCodeOffset);
        int status = *(int*)(info + SiginfoStatusOffset);
        _exit = code == CLD_EXITED ? new ProcessExit(status, null) : ProcessExit.Killed(status);
        ReleasePidfd();
        _exited.TrySetResult(_exit.Value);
        return true;
    }

    private void ReleasePidfd()
    {
        _pidfdRegistration?.Dispose();
        _pidfdRegistration = null;
        int fd = _pidfd;
        _pidfd = -1;
        if (fd >= 0) close(fd);
    }

    public override async Task<ProcessExit> WaitForExitAsync(CancellationToken cancellationToken)
    {
        if (_exit is { } exit) return exit;
        // The watcher completes _exited; this caller only needs its own cancellation, and its task's.
        var owner = LoopTask.CurrentOn(_loop);
        if (owner is null || !cancellationToken.CanBeCanceled)
            return await _exited.Task.WaitAsync(owner?.Token ?? cancellationToken);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, owner.Token);
        return await _exited.Task.WaitAsync(linked.Token);
    }

    public override void Kill(ProcessSignal signal)
    {
        if (_exit is not null) return;
        // pidfd_send_signal cannot hit another process that reused the pid; kill(2) is safe too while the child is
        // unreaped (a zombie keeps its pid), which it is until TryReap runs on this thread.
        int result = _pidfd >= 0 ? pidfd_send_signal(_pidfd, (int)signal) : kill(Id, (int)signal);
        if (result == 0) return;
        int errno = LastErrno;
        if (errno == ESRCH) return; // exited, not reaped yet
        throw SystemErrors.From(_pidfd >= 0 ? "pidfd_send_signal" : "kill", errno, Subject);
    }

    public override async ValueTask CloseAsync(bool killIfRunning)
    {
        if (_exit is not null || TryReap()) return;
        if (killIfRunning)
        {
            Kill(ProcessSignal.Kill);
            await _exited.Task; // SIGKILL cannot be caught: the watcher reaps it promptly
            return;
        }
        // Detach: the child keeps running. Waiting for it blocks, so a background thread waits and reaps it, and
        // the loop lets go of the pidfd's registration (its pending wait ends the watcher).
        int pidfd = _pidfd;
        int pid = Id;
        _detached = true; // the polling watcher (no pidfd) must stop before the reaper thread frees the pid
        _pidfdRegistration?.Dispose();
        _pidfdRegistration = null;
        _pidfd = -1;
        _exited.TrySetException(new ObjectDisposedException(Subject, $"{Subject} was detached while running; its exit status is not collected."));
        _ = _exited.Task.Exception; // observed: nobody has to wait for a detached child
        var reaper = new Thread(() => ReapBlocking(pidfd, pid), maxStackSize: 64 * 1024) { IsBackground = true, Name = $"reaper for {Subject}" };
        reaper.Start();
    }

    /// <summary>Blocks until the child exits and reaps it (a detached child's reaper thread).</summary>
    private static unsafe void ReapBlocking(int pidfd, int pid)
    {
        byte* info = stackalloc byte[SiginfoSize];
        while (waitid(pidfd >= 0 ? P_PIDFD : P_PID, pidfd >= 0 ? pidfd : pid, info, WEXITED) < 0 && LastErrno == Errno.EINTR) { }
        if (pidfd >= 0) close(pidfd);
    }

    /// <summary>A NULL-terminated array of NUL-terminated UTF-8 strings (argv, envp) in one native block.</summary>
    private readonly unsafe struct NativeStrings : IDisposable
    {
        private NativeStrings(byte** pointer) => Pointer = pointer;

        public byte** Pointer { get; }

        public static NativeStrings Create(IReadOnlyList<string> strings)
        {
            int bytes = 0;
            foreach (var s in strings)
            {
                if (s.Contains('\0')) throw new ArgumentException($"An argument or environment entry contains a NUL character: '{s.Replace("\0", "\\0")}'.");
                bytes += Encoding.UTF8.GetByteCount(s) + 1;
            }
            int table = (strings.Count + 1) * sizeof(byte*);
            var block = (byte*)NativeMemory.Alloc((nuint)(table + bytes));
            var pointers = (byte**)block;
            byte* next = block + table;
            for (int i = 0; i < strings.Count; i++)
            {
                pointers[i] = next;
                int n = Encoding.UTF8.GetBytes(strings[i], new Span<byte>(next, bytes));
                next[n] = 0;
                next += n + 1;
                bytes -= n + 1;
            }
            pointers[strings.Count] = null;
            return new NativeStrings(pointers);
        }

        public void Dispose()
        {
            if (Pointer != null) NativeMemory.Free(Pointer);
        }
    }
}
