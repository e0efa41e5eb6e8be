using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Meanwhile;

/// <summary>The Linux system calls the reactor uses, through source-generated P/Invoke.</summary>
/// <remarks>
/// The HTTP server compiles this file, LinuxNative.Files.cs, LinuxNative.FileServing.cs, Errno.cs and SystemErrors.cs
/// into its own assembly for its static-file path (as .NET shares Common/src/Interop): internal in both, so no internal
/// signature is a contract between the two packages. Keep these files free of anything else of the core's.
/// </remarks>
internal static unsafe partial class LinuxNative
{
    private const string Libc = "libc";

    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x001, EPOLLPRI = 0x002, EPOLLOUT = 0x004, EPOLLERR = 0x008, EPOLLHUP = 0x010,
        EPOLLRDHUP = 0x2000, EPOLLET = 1u << 31;
    public const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
    public const int O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;

    /// <summary>
    /// struct epoll_event is packed on x86-64 (12 bytes, data at offset 4) and naturally aligned elsewhere
    /// (16 bytes, data at offset 8); the reactor reads events through these two numbers.
    /// </summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    public static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, byte* ev);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    /// <summary>A system call by number, for those libc has no wrapper for in every version (openat2, pidfd_open, cachestat).</summary>
    [LibraryImport(Libc, SetLastError = true)]
    private static partial long syscall(long number, long arg1, long arg2, long arg3, long arg4);

    /// <summary>Fills an epoll_event in <paramref name="buffer"/> (at least 16 bytes).</summary>
    public static void WriteEvent(byte* buffer, uint events, ulong data)
    {
        *(uint*)buffer = events;
        Unsafe.WriteUnaligned(buffer + EpollDataOffset, data);
    }

    public static int LastErrno => Marshal.GetLastPInvokeError();
}

/// <summary>Socket, file and process system calls used by the stream layer on the epoll path.</summary>
internal static unsafe partial class LinuxNative
{
    public const int AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
    public const int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9, SO_REUSEPORT = 15;
    public const int IPPROTO_TCP = 6, TCP_NODELAY = 1, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6;
    public const int IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;
    public const int SHUT_RD = 0, SHUT_WR = 1;
    public const int MSG_NOSIGNAL = 0x4000, MSG_PEEK = 0x2, MSG_DONTWAIT = 0x40, MSG_MORE = 0x8000;
    public const int F_GETFL = 3, F_SETFL = 4;
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_TRUNC = 0x200, O_APPEND = 0x400;

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int bind(int fd, byte* address, uint length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int listen(int fd, int backlog);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int accept4(int fd, byte* address, uint* length, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int connect(int fd, byte* address, uint length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, uint length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int getsockname(int fd, byte* address, uint* length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int getpeername(int fd, byte* address, uint* length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint sendto(int fd, byte* buffer, nint length, int flags, byte* address, uint addressLength);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint recvfrom(int fd, byte* buffer, nint length, int flags, byte* address, uint* addressLength);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint sendfile(int outFd, int inFd, long* offset, nint count);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int unlink(string path);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int dup(int fd);

    /// <summary>Sets or clears O_NONBLOCK; returns the previous flags (or -1 with errno set).</summary>
    public static int SetNonBlocking(int fd, bool nonBlocking)
    {
        int flags = fcntl(fd, F_GETFL, 0);
        if (flags < 0) return -1;
        int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (wanted != flags && fcntl(fd, F_SETFL, wanted) < 0) return -1;
        return flags;
    }

    public static int SetOption(int fd, int level, int name, int value) => setsockopt(fd, level, name, &value, sizeof(int));
}
