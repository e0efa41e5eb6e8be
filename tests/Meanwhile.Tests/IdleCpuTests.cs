using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Meanwhile.Tests;

public class IdleCpuTests
{
    // Process CPU time is measured in a process of its own (the examples program), so the other tests
    // running in parallel in this one cannot blur it.
    [Theory]
    [InlineData("")]
    [InlineData("portable")]
    public async Task An_idle_loop_uses_under_20_ms_of_CPU_in_a_second(string reactor)
    {
        var psi = new ProcessStartInfo("dotnet", [typeof(Examples.Idle).Assembly.Location, "idle"])
        {
            RedirectStandardOutput = true,
        };
        if (reactor != "") psi.Environment["MEANWHILE_REACTOR"] = reactor;
        else psi.Environment.Remove("MEANWHILE_REACTOR");
        using var process = Process.Start(psi)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = await process.StandardOutput.ReadToEndAsync(deadline.Token);
        await process.WaitForExitAsync(deadline.Token);
        Assert.Equal(0, process.ExitCode);
        var match = Regex.Match(output, @"idle (\w+) loop: waited (\d+) ms using ([\d.]+) ms of CPU");
        Assert.True(match.Success, output);
        Assert.Equal(reactor == "" ? (OperatingSystem.IsLinux() ? "epoll" : "portable") : reactor, match.Groups[1].Value);
        Assert.True(int.Parse(match.Groups[2].Value) >= 1000);
        double cpuMs = double.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(cpuMs < 20, $"the idle loop used {cpuMs} ms of CPU in a second");
    }
}
