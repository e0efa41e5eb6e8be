using System.Runtime.InteropServices;

namespace Meanwhile;

/// <summary>Process system calls: posix_spawn and its attributes, pidfd, waitid, kill.</summary>
internal static unsafe partial class LinuxNative
{
    /// <summary>
    /// posix_spawn_file_actions_t and posix_spawnattr_t are opaque: glibc's are 80 and 336 bytes on 64-bit targets
    /// (musl's are smaller). They are allocated with this much room so no libc's layout can overflow them.
    /// </summary>
    public const int SpawnOpaqueSize = 1024;

    /// <summary>sigset_t is 128 bytes in glibc (1024 bits); the kernel uses the first 8.</summary>
    public const int SigsetSize = 128;

    /// <summary>siginfo_t is 128 bytes on every Linux target.</summary>
    public const int SiginfoSize = 128;

    /// <summary>Offsets in siginfo_t on 64-bit Linux: si_code at 8, then (after padding) si_pid at 16, si_status at 24.</summary>
    public const int SiginfoCodeOffset = 8, SiginfoPidOffset = 16, SiginfoStatusOffset = 24;

    public const short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;
    public const int P_PID = 1, P_PIDFD = 3;
    public const int WNOHANG = 1, WEXITED = 4;
    public const int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;
    public const int SIGPIPE = 13;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int ESRCH = 3;

    // The same numbers on x86-64 and aarch64 (both use the generic table for these late additions).
    private const long SYS_pidfd_send_signal = 424, SYS_pidfd_open = 434;

    /// <summary>A descriptor that refers to process <paramref name="pid"/> (close-on-exec); -1 with errno (ENOSYS before Linux 5.3).</summary>
    public static int pidfd_open(int pid) => (int)syscall(SYS_pidfd_open, pid, 0, 0, 0);

    /// <summary>Sends <paramref name="signal"/> to the process behind <paramref name="pidfd"/>: unlike kill(2), it can never hit a recycled pid.</summary>
    public static int pidfd_send_signal(int pidfd, int signal) => (int)syscall(SYS_pidfd_send_signal, pidfd, signal, 0, 0);

    /// <summary>Returns 0 or an error number (posix_spawn does not set errno).</summary>
    [LibraryImport(Libc, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawnp(int* pid, string file, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport(Libc)]
    public static partial int posix_spawn_file_actions_init(void* fileActions);

    [LibraryImport(Libc)]
    public static partial int posix_spawn_file_actions_destroy(void* fileActions);

    [LibraryImport(Libc)]
    public static partial int posix_spawn_file_actions_adddup2(void* fileActions, int fd, int newFd);

    [LibraryImport(Libc, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn_file_actions_addopen(void* fileActions, int fd, string path, int flags, int mode);

    /// <summary>glibc 2.29 and later.</summary>
    [LibraryImport(Libc, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn_file_actions_addchdir_np(void* fileActions, string path);

    [LibraryImport(Libc)]
    public static partial int posix_spawnattr_init(void* attributes);

    [LibraryImport(Libc)]
    public static partial int posix_spawnattr_destroy(void* attributes);

    [LibraryImport(Libc)]
    public static partial int posix_spawnattr_setflags(void* attributes, short flags);

    [LibraryImport(Libc)]
    public static partial int posix_spawnattr_setsigmask(void* attributes, void* sigset);

    [LibraryImport(Libc)]
    public static partial int posix_spawnattr_setsigdefault(void* attributes, void* sigset);

    [LibraryImport(Libc)]
    public static partial int sigemptyset(void* sigset);

    [LibraryImport(Libc)]
    public static partial int sigaddset(void* sigset, int signal);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int waitid(int idType, int id, byte* info, int options);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int kill(int pid, int signal);
}
