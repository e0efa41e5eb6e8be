using System.Net;
using System.Net.Sockets;
using static Meanwhile.LinuxNative;

namespace Meanwhile;

/// <summary>sockaddr in and out: .NET's <see cref="SocketAddress"/> already holds the native Linux layout.</summary>
internal static unsafe class SocketAddresses
{
    public const int MaxSize = 128; // sizeof(struct sockaddr_storage)

    public static EndPoint? Local(int fd) => Read(fd, peer: false);

    public static EndPoint? Remote(int fd) => Read(fd, peer: true);

    private static EndPoint? Read(int fd, bool peer)
    {
        byte* buffer = stackalloc byte[MaxSize];
        uint length = MaxSize;
        int result = peer ? getpeername(fd, buffer, &length) : getsockname(fd, buffer, &length);
        if (result < 0) return null;
        return Parse(new ReadOnlySpan<byte>(buffer, (int)length));
    }

    public static EndPoint? Parse(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length < 2) return null;
        int family = sockaddr[0] | (sockaddr[1] << 8);
        var addressFamily = family switch
        {
            AF_INET => AddressFamily.InterNetwork,
            AF_INET6 => AddressFamily.InterNetworkV6,
            AF_UNIX => AddressFamily.Unix,
            _ => AddressFamily.Unknown,
        };
        if (addressFamily == AddressFamily.Unknown) return null;
        if (addressFamily == AddressFamily.Unix)
        {
            // An unnamed Unix socket (the client end of a connection) has no address to show.
            if (sockaddr.Length <= 2) return null;
        }
        var address = new SocketAddress(addressFamily, sockaddr.Length);
        sockaddr.CopyTo(address.Buffer.Span);
        return addressFamily == AddressFamily.Unix
            ? new UnixDomainSocketEndPoint("x").Create(address)
            : new IPEndPoint(IPAddress.Any, 0).Create(address);
    }

    public static int FamilyOf(EndPoint endpoint) => endpoint.AddressFamily switch
    {
        AddressFamily.InterNetwork => AF_INET,
        AddressFamily.InterNetworkV6 => AF_INET6,
        AddressFamily.Unix => AF_UNIX,
        _ => throw new NotSupportedException($"Address family {endpoint.AddressFamily} is not supported."),
    };
}
