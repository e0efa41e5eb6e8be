using System.Net;
using System.Net.Sockets;

namespace Meanwhile.Testing;

/// <summary>Free loopback ports, for peers such as nginx that cannot report a port 0 binding.</summary>
public static class FreePort
{
    /// <summary>A loopback port free right now.</summary>
    public static int Get()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
