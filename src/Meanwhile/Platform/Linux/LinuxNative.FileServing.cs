using System.Runtime.InteropServices;

namespace Meanwhile;

/// <summary>What one statx of an open descriptor says about a file to serve.</summary>
/// <param name="Type">The S_IFMT bits.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="ModifiedSeconds">The modification time, seconds since the Unix epoch.</param>
/// <param name="ModifiedNanoseconds">The modification time's nanoseconds.</param>
/// <param name="Inode">The inode number: with <paramref name="Device"/>, which file this is whatever its path.</param>
/// <param name="Device">The device holding it (its major and minor numbers as one).</param>
internal readonly record struct FileFacts(int Type, long Size, long ModifiedSeconds, int ModifiedNanoseconds, long Inode = 0, long Device = 0)
{
    /// <summary>The modification time in .NET ticks (what <see cref="FileSystemInfo.LastWriteTimeUtc"/> gives).</summary>
    public long ModifiedTicks => DateTime.UnixEpoch.Ticks + ModifiedSeconds * TimeSpan.TicksPerSecond + ModifiedNanoseconds / 100;
}

/// <summary>
/// The system calls of serving a file from the loop thread, each in a small function of its own: open beneath a kept
/// directory descriptor only if the lookup is cached, one statx of the descriptor, a read that refuses to wait for the
/// disk, and how much of a range the page cache holds.
/// </summary>
internal static unsafe partial class LinuxNative
{
    public const ulong RESOLVE_CACHED = 0x20; // Linux 5.12: fail with EAGAIN rather than wait for a lookup
    public const int RWF_NOWAIT = 0x08; // Linux 4.14: fail with EAGAIN rather than wait for the disk
    public const uint STATX_MTIME = 0x40, STATX_INO = 0x100;

    // The generic syscall table's number, the same on x86-64 and aarch64 (Linux 6.5).
    private const long SYS_cachestat = 451;
    private const int StatxMtimeOffset = 112; // struct statx_timestamp stx_mtime: s64 tv_sec, u32 tv_nsec
    private const int StatxInodeOffset = 32, StatxDeviceOffset = 136; // u64 stx_ino; u32 stx_dev_major, stx_dev_minor read as one

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true)]
    private static partial int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport(Libc, SetLastError = true)]
    private static partial nint preadv2(int fd, Iovec* iov, int count, long offset, int flags);

    [StructLayout(LayoutKind.Sequential)]
    private struct Iovec
    {
        public byte* Base;
        public nint Length;
    }

    /// <summary>
    /// openat2 for reading, relative to <paramref name="dirfd"/>: <paramref name="path"/> is NUL-terminated UTF-8;
    /// <paramref name="resolve"/> takes RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_CACHED. Non-blocking, so a FIFO
    /// never waits for a writer. The descriptor, or -1 with errno (EAGAIN: RESOLVE_CACHED and the lookup needs the disk).
    /// </summary>
    public static int OpenForReading(int dirfd, ReadOnlySpan<byte> path, ulong resolve)
    {
        if (path.IsEmpty || path[^1] != 0) throw new ArgumentException("The path must end with a NUL byte.", nameof(path));
        fixed (byte* p = path) return OpenForReading(dirfd, p, resolve);
    }

    private static int OpenForReading(int dirfd, byte* path, ulong resolve)
    {
        var how = new OpenHow { Flags = (ulong)(O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), Resolve = resolve };
        int fd;
        while ((fd = (int)syscall(SYS_openat2, dirfd, (long)path, (long)&how, sizeof(OpenHow))) < 0 && LastErrno == Errno.EINTR) { }
        return fd;
    }

    /// <summary>Type, size, modification time and identity of an open descriptor in one statx; 0, or -1 with errno.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit] // the buffer is read only after statx filled it
    public static int StatOpenFile(int fd, out FileFacts facts)
    {
        byte* buffer = stackalloc byte[StatxSize];
        byte empty = 0;
        int result = statx(fd, &empty, AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE | STATX_MTIME | STATX_INO, buffer);
        facts = result < 0 ? default : new FileFacts(*(ushort*)(buffer + StatxModeOffset) & S_IFMT, *(long*)(buffer + StatxSizeOffset),
            *(long*)(buffer + StatxMtimeOffset), (int)*(uint*)(buffer + StatxMtimeOffset + 8),
            *(long*)(buffer + StatxInodeOffset), *(long*)(buffer + StatxDeviceOffset));
        return result;
    }

    /// <summary>
    /// preadv2 with RWF_NOWAIT: the bytes the page cache holds from <paramref name="offset"/> on (fewer than asked when
    /// only part is cached), or -1 with errno EAGAIN when reading would wait for the disk.
    /// </summary>
    public static nint ReadCached(int fd, Span<byte> buffer, long offset)
    {
        fixed (byte* p = buffer)
        {
            var iov = new Iovec { Base = p, Length = buffer.Length };
            nint n;
            while ((n = preadv2(fd, &iov, 1, offset, RWF_NOWAIT)) < 0 && LastErrno == Errno.EINTR) { }
            return n;
        }
    }

    /// <summary>pread(2) until <paramref name="buffer"/> is full or the file ends (blocking: for worker threads); the bytes read, or -1 with errno.</summary>
    public static int ReadAt(int fd, Span<byte> buffer, long offset)
    {
        int filled = 0;
        fixed (byte* p = buffer)
        {
            while (filled < buffer.Length)
            {
                nint n = pread(fd, p + filled, buffer.Length - filled, offset + filled);
                if (n < 0 && LastErrno == Errno.EINTR) continue;
                if (n < 0) return filled > 0 ? filled : -1;
                if (n == 0) break;
                filled += (int)n;
            }
        }
        return filled;
    }

    /// <summary>sendfile(2) of up to <paramref name="count"/> bytes from <paramref name="position"/>, which it advances; the bytes sent, or -1 with errno.</summary>
    public static nint SendFile(int socketFd, int fd, ref long position, long count)
    {
        fixed (long* p = &position) return sendfile(socketFd, fd, p, (nint)Math.Min(count, 1L << 30));
    }

    /// <summary>
    /// Whether the page cache holds every page of the range (cachestat, Linux 6.5); false when it does not, or when the
    /// kernel cannot say (then the caller takes the slow, safe road).
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static bool IsRangeCached(int fd, long offset, long length)
    {
        if (length <= 0) return true;
        long* range = stackalloc long[2] { offset, length };
        long* stat = stackalloc long[5]; // nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted
        if (syscall(SYS_cachestat, fd, (long)range, (long)stat, 0) < 0) return false;
        long pageSize = Environment.SystemPageSize;
        long pages = (offset + length + pageSize - 1) / pageSize - offset / pageSize;
        return stat[0] >= pages;
    }
}
