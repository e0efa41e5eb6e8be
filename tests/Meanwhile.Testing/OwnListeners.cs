using System.Globalization;
using System.Net;

namespace Meanwhile.Testing;

/// <summary>
/// The TCP ports this process listens on, from the kernel (/proc/net/tcp and tcp6, matched by socket inode against
/// /proc/self/fd). Unlike connecting to a port to see it refused, this cannot be fooled by another test of the same run
/// binding the port once it is free.
/// </summary>
public static class OwnListeners
{
    /// <summary>Whether a socket of this process listens on TCP <paramref name="port"/>.</summary>
    public static bool IsListening(int port) => Ports().Contains(port);

    /// <summary>Every TCP port a socket of this process listens on (Linux).</summary>
    public static HashSet<int> Ports()
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
        var ports = new HashSet<int>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || fields[3] != "0A" || !inodes.Contains(fields[9])) continue; // 0A: LISTEN
                ports.Add(int.Parse(fields[1][(fields[1].LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
        return ports;
    }
}
