using System.Runtime.InteropServices;

namespace Meanwhile;

/// <summary>File, FIFO and device system calls: positioned I/O for worker threads, statx, poll.</summary>
internal static unsafe partial class LinuxNative
{
    public const int O_NOCTTY = 0x100, O_EXCL = 0x80;
    public const int AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000;
    public const int O_PATH = 0x200000; // the same on x86-64 and aarch64 (unlike O_DIRECTORY)
    public const ulong RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_BENEATH = 0x08;

    // The generic syscall table's number, the same on x86-64 and aarch64 (Linux 5.6).
    private const long SYS_openat2 = 437;

    /// <summary>struct open_how (Linux 5.6): the arguments of openat2(2).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }
    public const uint STATX_TYPE = 0x1, STATX_SIZE = 0x200;
    public const int S_IFMT = 0xF000, S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFDIR = 0x4000, S_IFBLK = 0x6000,
        S_IFREG = 0x8000, S_IFSOCK = 0xC000;
    public const short POLLIN = 0x1, POLLOUT = 0x4;

    /// <summary>
    /// struct statx is the same on every architecture (unlike struct stat, whose layout differs between x86-64
    /// and arm64), so the few fields needed are read at fixed offsets: stx_mode (u16) at 28, stx_size (u64) at 40.
    /// </summary>
    private const int StatxSize = 256, StatxModeOffset = 28, StatxSizeOffset = 40;

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint pread(int fd, byte* buf, nint count, long offset);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial nint pwrite(int fd, byte* buf, nint count, long offset);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint readlink(string path, byte* buffer, nint size);

    [LibraryImport(Libc, SetLastError = true)]
    private static partial int poll(PollFd* fds, nuint count, int timeout);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>openat2(2): opens <paramref name="path"/> relative to <paramref name="dirfd"/> under the <paramref name="resolve"/> rules; -1 with errno (ENOSYS before Linux 5.6).</summary>
    public static int openat2(int dirfd, string path, int flags, ulong resolve)
    {
        var how = new OpenHow { Flags = (ulong)(uint)flags, Resolve = resolve };
        int length = System.Text.Encoding.UTF8.GetByteCount(path);
        Span<byte> bytes = length < 1024 ? stackalloc byte[length + 1] : new byte[length + 1];
        System.Text.Encoding.UTF8.GetBytes(path, bytes);
        bytes[length] = 0;
        fixed (byte* pathBytes = bytes)
        {
            return (int)syscall(SYS_openat2, dirfd, (long)pathBytes, (long)&how, sizeof(OpenHow));
        }
    }

    /// <summary>The path an open descriptor refers to now, as the kernel names it in /proc/self/fd; null if unknown.</summary>
    public static string? DescriptorPath(int fd)
    {
        byte* buffer = stackalloc byte[4096];
        nint length = readlink($"/proc/self/fd/{fd}", buffer, 4096);
        return length is <= 0 or >= 4096 ? null : System.Text.Encoding.UTF8.GetString(buffer, (int)length);
    }

    /// <summary>The file type bits (S_IFMT) and size of an open descriptor, or -1 with errno set.</summary>
    public static int StatDescriptor(int fd, out int type, out long size) => Stat(fd, "", AT_EMPTY_PATH, out type, out size);

    /// <summary>The file type bits (S_IFMT) and size of <paramref name="path"/> (symbolic links followed), or -1 with errno set.</summary>
    public static int StatPath(string path, out int type, out long size) => Stat(AT_FDCWD, path, 0, out type, out size);

    private static int Stat(int dirfd, string path, int flags, out int type, out long size)
    {
        byte* buffer = stackalloc byte[StatxSize];
        int result = statx(dirfd, path, flags, STATX_TYPE | STATX_SIZE, buffer);
        type = result < 0 ? 0 : *(ushort*)(buffer + StatxModeOffset) & S_IFMT;
        size = result < 0 ? 0 : *(long*)(buffer + StatxSizeOffset);
        return result;
    }

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for <paramref name="events"/> on one descriptor: &gt;0 ready, 0 timed out, -1 error.</summary>
    public static int PollOne(int fd, short events, int timeoutMilliseconds)
    {
        var entry = new PollFd { Fd = fd, Events = events };
        return poll(&entry, 1, timeoutMilliseconds);
    }
}
