using System.Diagnostics;

namespace Meanwhile.Tests;

/// <summary>
/// The process's diagnostics endpoint (a Unix socket): its owner reads every loop with diagnostics on through it, each
/// loop's part taken in one of its turns; nobody else can connect.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class DiagnosticsEndpointTests
{
    [Fact]
    public void Its_owner_reads_each_loop_through_the_endpoint_in_one_turn_of_that_loop()
    {
        Loops.Run(async loop =>
        {
            var sleeper = loop.Spawn(() => loop.Delay(TimeSpan.FromHours(1)).AsTask(), "sleeper");
            var snapshot = await loop.Cancellable(Task.Run(async () =>
            {
                using var client = await LoopDiagnosticsClient.ConnectAsync(Environment.ProcessId);
                return await client.GetSnapshotAsync();
            }));

            Assert.Equal(Environment.ProcessId, snapshot.ProcessId);
            var mine = Assert.Single(snapshot.Loops, l => l.LoopId == loop.Id); // other tests' loops may show too
            Assert.Equal("endpoint test", mine.Name);
            Assert.True(mine.IsConsistent);
            Assert.True(mine.IsRunning);
            Assert.NotNull(mine.Lag);
            var tasks = mine.Tasks.ToDictionary(t => t.Name!);
            Assert.Equal((SchedulingState.Waiting, WaitKind.Timer), (tasks["sleeper"].State, tasks["sleeper"].WaitingOn.Kind));
            Assert.Equal((SchedulingState.Waiting, WaitKind.Foreign, 1L), (tasks["main"].State, tasks["main"].WaitingOn.Kind, tasks["main"].WaitingOn.Detail));
            sleeper.Cancel();
        }, new EventLoopOptions { Diagnostics = true, Name = "endpoint test" });
    }

    [Fact]
    public void A_loop_with_diagnostics_off_does_not_show()
    {
        Loops.Run(async loop =>
        {
            var snapshot = await loop.Cancellable(Task.Run(() => DiagnosticsEndpoint.Snapshot(maxTasks: 10, TimeSpan.FromSeconds(5))));
            Assert.DoesNotContain(snapshot.Loops, l => l.LoopId == loop.Id);
        }, new EventLoopOptions { Diagnostics = false });
    }

    [Fact]
    public void A_loop_that_does_not_answer_is_read_from_outside_with_its_running_turn()
    {
        using var spinning = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        ProcessSnapshot? snapshot = null;
        Loops.Run(async loop =>
        {
            var spinner = loop.Spawn(async () =>
            {
                await loop.Yield();
                spinning.Set();
                release.Wait(Loops.HangLimit); // never yields until the endpoint has looked
            }, "spinner");
            _ = Task.Run(() =>
            {
                spinning.Wait(Loops.HangLimit);
                snapshot = DiagnosticsEndpoint.Snapshot(maxTasks: 100, TimeSpan.FromMilliseconds(200));
                release.Set();
            });
            await spinner;
        }, new EventLoopOptions { Diagnostics = true, Name = "stuck" });

        var stuck = Assert.Single(snapshot!.Loops, l => l.Name == "stuck");
        Assert.False(stuck.IsConsistent);
        Assert.Equal("spinner", stuck.RunningTurn!.Value.TaskName);
        Assert.Contains("A_loop_that_does_not_answer", stuck.RunningTurn.Value.Method, StringComparison.Ordinal);
        // The turn has run at least as long as the endpoint waited for it, less the millisecond by which a timed wait
        // may end early (timeouts count in whole ticks of a coarse clock): CI saw 199.6 ms.
        Assert.True(stuck.RunningTurn.Value.Duration >= TimeSpan.FromMilliseconds(195), $"{stuck.RunningTurn.Value.Duration}");
        var spinnerRow = Assert.Single(stuck.Tasks, t => t.Name == "spinner");
        Assert.Equal(SchedulingState.Running, spinnerRow.State);
    }

    [Fact]
    public void Requests_the_endpoint_does_not_know_get_one_error_line()
    {
        Assert.Equal("unknown request 'hello'; the endpoint answers 'snapshot [max-tasks=N] [wait-ms=N]'", ErrorOf(DiagnosticsEndpoint.Answer("hello")));
        Assert.Equal("unknown argument 'max-tasks=x' in 'snapshot max-tasks=x'", ErrorOf(DiagnosticsEndpoint.Answer("snapshot max-tasks=x")));

        static string? ErrorOf(byte[] line)
        {
            Assert.Equal((byte)'\n', line[^1]); // one line
            using var json = System.Text.Json.JsonDocument.Parse(line);
            return json.RootElement.GetProperty("error").GetString();
        }
    }

    [Fact]
    public void The_socket_is_mode_0600_in_a_directory_of_mode_0700_owned_by_the_user()
    {
        Loops.Run(_ => Task.CompletedTask, new EventLoopOptions { Diagnostics = true });
        string path = DiagnosticsEndpoint.Path ?? throw new InvalidOperationException("the endpoint did not start");
        Assert.Equal($"{Environment.ProcessId}.sock", Path.GetFileName(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Equal(0, LinuxNative.StatOwner(path, out uint owner, out _, out _));
        Assert.Equal(LinuxNative.geteuid(), owner);
    }

    [OtherUserFact]
    public async Task Another_user_cannot_connect_to_the_endpoint()
    {
        Loops.Run(_ => Task.CompletedTask, new EventLoopOptions { Diagnostics = true });
        string path = DiagnosticsEndpoint.Path ?? throw new InvalidOperationException("the endpoint did not start");
        var (uid, gid) = OtherUser.Ensure();
        string[] connect = ["socat", "-t", "30", "-", $"UNIX-CONNECT:{path}"];

        var (owner, ownerExit) = await RunAsync(connect, "snapshot max-tasks=0\n");
        Assert.True(ownerExit == 0, owner);
        Assert.StartsWith($"{{\"pid\":{Environment.ProcessId},", owner, StringComparison.Ordinal);

        var (other, otherExit) = await RunAsync(["setpriv", $"--reuid={uid}", $"--regid={gid}", "--clear-groups", "--", .. connect], "snapshot\n");
        Assert.NotEqual(0, otherExit);
        Assert.Contains("Permission denied", other, StringComparison.Ordinal);
        Assert.DoesNotContain("pid", other, StringComparison.Ordinal);
    }

    private static async Task<(string Output, int ExitCode)> RunAsync(string[] command, string input)
    {
        var info = new ProcessStartInfo(command[0], command[1..]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var error = process.StandardError.ReadToEndAsync(deadline.Token);
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        await process.WaitForExitAsync(deadline.Token);
        return (await output + await error, process.ExitCode);
    }
}

/// <summary>A fact that needs a second user: only root can make one (useradd) and run a process as it (setpriv).</summary>
public sealed class OtherUserFactAttribute : FactAttribute
{
    public OtherUserFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
            Skip = "needs root, to create a second user with useradd and run a process as that user with setpriv (CI runs as root)";
    }
}

/// <summary>The second user the tests run processes as: <c>meanwhile-other</c>, created on first use.</summary>
internal static class OtherUser
{
    public const string Name = "meanwhile-other";

    private static readonly Lazy<(uint Uid, uint Gid)> Ids = new(Create);

    public static (uint Uid, uint Gid) Ensure() => Ids.Value;

    private static (uint, uint) Create()
    {
        if (Run("id", "-u", Name).ExitCode != 0)
        {
            // Debian keeps useradd in /usr/sbin, which a PATH outside test.sh may lack.
            var made = Run(File.Exists("/usr/sbin/useradd") ? "/usr/sbin/useradd" : "useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", Name);
            // Another test process may have made it meanwhile.
            if (made.ExitCode != 0 && Run("id", "-u", Name).ExitCode != 0) throw new InvalidOperationException($"useradd {Name} failed: {made.Output}");
        }
        return (uint.Parse(Run("id", "-u", Name).Output.Trim()), uint.Parse(Run("id", "-g", Name).Output.Trim()));
    }

    private static (string Output, int ExitCode) Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (output, process.ExitCode);
    }
}
