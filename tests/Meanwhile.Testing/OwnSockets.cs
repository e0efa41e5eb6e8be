using System.Globalization;
using System.Net;

namespace Meanwhile.Testing;

/// <summary>
/// This process's TCP sockets, from the kernel (/proc/net/tcp and tcp6, matched by socket inode against /proc/self/fd).
/// Unlike connecting to a port to see it refused, or counting all descriptors, this cannot be fooled by another test
/// of the same run binding the port once it is free, or opening and closing descriptors of its own.
/// </summary>
public static class OwnSockets
{
    /// <summary>Whether a socket of this process listens on TCP <paramref name="port"/>.</summary>
    public static bool IsListening(int port) => Sockets().Any(s => s.Listening && s.LocalPort == port);

    /// <summary>How many sockets of this process are connections (not listeners) with local TCP port <paramref name="port"/>: a server's accepted connections.</summary>
    public static int ConnectionsOnLocalPort(int port) => Sockets().Count(s => !s.Listening && s.LocalPort == port);

    /// <summary>How many sockets of this process are connections to remote TCP port <paramref name="port"/>: a client's (or a proxy's) connections to a server there.</summary>
    public static int ConnectionsToRemotePort(int port) => Sockets().Count(s => !s.Listening && s.RemotePort == port);

    /// <summary>Every TCP socket of this process with a descriptor open (Linux): its local and remote ports and whether it listens.</summary>
    public static List<(int LocalPort, int RemotePort, bool Listening)> Sockets()
    {
        var inodes = new HashSet<string>();
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                    inodes.Add(target["socket:[".Length..^1]);
            }
            catch (IOException) { } // closed while we looked
        }
        var sockets = new List<(int LocalPort, int RemotePort, bool Listening)>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || !inodes.Contains(fields[9])) continue;
                sockets.Add((Port(fields[1]), Port(fields[2]), fields[3] == "0A")); // 0A: LISTEN
            }
        }
        return sockets;
    }

    // "0100007F:1F90": the port is the hex after the colon.
    private static int Port(string address) => int.Parse(address[(address.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
