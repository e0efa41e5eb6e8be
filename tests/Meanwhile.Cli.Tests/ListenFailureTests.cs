using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Meanwhile.Cli.Tests;

/// <summary>
/// A server that cannot listen ends the process: one line naming the address and the reason, no stack trace, exit
/// code 1, at once (the bug: the process printed the line, then a stack trace, and never exited).
/// </summary>
public sealed class ListenFailureTests
{
    [Theory]
    [InlineData("serve", "1")]
    [InlineData("serve", "2")]
    [InlineData("echo", "1")]
    public void A_port_in_use_ends_the_process_with_code_1_and_one_line(string command, string loops)
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        int port = ((IPEndPoint)holder.LocalEndPoint!).Port;

        AssertFailsToListen(ToolProcess.Start(command, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--loops", loops),
            $"meanwhile: cannot listen on 127.0.0.1:{port}: the address is in use (EADDRINUSE)");
    }

    [Fact]
    public void An_address_this_machine_does_not_have_ends_the_process_with_code_1_and_one_line()
    {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737), on no interface: the bind fails locally, nothing is sent.
        AssertFailsToListen(ToolProcess.Start("serve", "--host", "192.0.2.1", "--port", "8080", "--loops", "2"),
            "meanwhile: cannot listen on 192.0.2.1:8080: this machine has no such address (EADDRNOTAVAIL)");
    }

    [PrivilegedPortFact]
    public void A_privileged_port_without_the_capability_ends_the_process_with_code_1_and_one_line()
    {
        AssertFailsToListen(ToolProcess.StartWith(ToolProcess.Unprivileged, "serve", "--port", "1", "--loops", "1"),
            "meanwhile: cannot listen on 127.0.0.1:1: permission denied (EACCES): ports below 1024 need root or the CAP_NET_BIND_SERVICE capability");
    }

    private static void AssertFailsToListen(ToolProcess tool, string expectedLine)
    {
        using (tool)
        {
            var start = Stopwatch.StartNew();
            int code = tool.WaitForExit();
            Assert.True(code == 1, $"exit {code} after {start.Elapsed}: {tool.Stdout}{tool.Stderr}");
            var lines = tool.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, $"one line expected, got:\n{tool.Stderr}"); // no stack trace, no second report
            Assert.StartsWith(expectedLine, lines[0], StringComparison.Ordinal);
            Assert.DoesNotContain("listening on", tool.Stdout, StringComparison.Ordinal);
            // The process ends as soon as it has said why (tens of milliseconds; the bound leaves room for a loaded
            // machine's scheduling of this process, which sees both moments).
            var saidWhy = tool.WaitForStderr("cannot listen on");
            Assert.True(tool.ExitTime - saidWhy < TimeSpan.FromSeconds(2), $"exited {tool.ExitTime - saidWhy} after its error line");
        }
    }
}

/// <summary>
/// A fact that needs a port below the kernel's unprivileged start (net.ipv4.ip_unprivileged_port_start, 1024 by
/// default) and, as root, setpriv to drop to nobody.
/// </summary>
public sealed class PrivilegedPortFactAttribute : FactAttribute
{
    public PrivilegedPortFactAttribute()
    {
        const string start = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
        if (File.Exists(start) && int.Parse(File.ReadAllText(start).Trim(), System.Globalization.CultureInfo.InvariantCulture) <= 1)
            Skip = "every port is unprivileged here (net.ipv4.ip_unprivileged_port_start = 0)";
        else if (Environment.IsPrivilegedProcess && !File.Exists("/usr/bin/setpriv"))
            Skip = "running as root without setpriv (Debian's util-linux) to drop privileges";
    }
}
