using System.Net.Sockets;
using static Meanwhile.LinuxNative;

namespace Meanwhile;

/// <summary>
/// Names a descriptor for diagnostics, from the kernel: a socket by its kind and addresses ("tcp 127.0.0.1:8080 &lt;-&gt;
/// 127.0.0.1:50412", "tcp 0.0.0.0:8080 (listening)"), anything else by what /proc/self/fd says ("pipe:[48213]",
/// "/dev/pts/3"). A few system calls per descriptor, made only when a snapshot asks.
/// </summary>
internal static unsafe class DescriptorNames
{
    private const int SO_TYPE = 3, SO_ACCEPTCONN = 30;

    public static string? Describe(int fd)
    {
        var local = SocketAddresses.Local(fd);
        var remote = SocketAddresses.Remote(fd);
        if (local is null && remote is null) return DescriptorPath(fd); // not a socket, or an unnamed Unix one: "socket:[…]"
        string kind = (local ?? remote)!.AddressFamily == AddressFamily.Unix ? "unix"
            : Option(fd, SO_TYPE) == SOCK_DGRAM ? "udp" : "tcp";
        string localText = local?.ToString() ?? "(unnamed)";
        if (Option(fd, SO_ACCEPTCONN) == 1) return $"{kind} {localText} (listening)";
        return remote is null ? $"{kind} {localText}" : $"{kind} {localText} <-> {remote}";
    }

    private static int Option(int fd, int name)
    {
        int value = 0;
        uint length = sizeof(int);
        return getsockopt(fd, SOL_SOCKET, name, &value, &length) < 0 ? -1 : value;
    }
}
