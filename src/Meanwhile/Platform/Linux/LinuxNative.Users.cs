using System.Runtime.InteropServices;

namespace Meanwhile;

/// <summary>Who owns what: the process's user and a path's owner and mode, for the diagnostics endpoint's checks.</summary>
internal static unsafe partial class LinuxNative
{
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const uint STATX_MODE = 0x2, STATX_UID = 0x8;
    private const int StatxUidOffset = 20; // stx_uid (u32), then stx_gid, then stx_mode at 28

    [LibraryImport(Libc)]
    public static partial uint geteuid();

    /// <summary>The owner, file type bits and permission bits of <paramref name="path"/> itself (a symbolic link is not followed); -1 with errno on failure.</summary>
    public static int StatOwner(string path, out uint owner, out int type, out int permissions)
    {
        byte* buffer = stackalloc byte[StatxSize];
        int result = statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE | STATX_UID, buffer);
        int mode = result < 0 ? 0 : *(ushort*)(buffer + StatxModeOffset);
        owner = result < 0 ? 0 : *(uint*)(buffer + StatxUidOffset);
        type = mode & S_IFMT;
        permissions = mode & 0xFFF;
        return result;
    }
}
