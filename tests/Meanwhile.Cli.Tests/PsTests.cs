using System.Diagnostics;
using System.Text.Json;

namespace Meanwhile.Cli.Tests;

/// <summary>
/// <c>meanwhile ps</c> against real processes: the WaitingTasks example (a task on a timer, a socket, a queue, a
/// foreign task, a worker, and one spinning), and the tool's own servers.
/// </summary>
public sealed class PsTests
{

    [Fact]
    public void Ps_json_reads_back_each_task_with_what_it_waits_on_and_its_times()
    {
        using var example = WaitingTasks.Start();
        var (code, stdout, stderr) = ToolProcess.Run("ps", example.Pid, "--json");
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");

        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(example.Id, json.RootElement.GetProperty("pid").GetInt32());
        var loop = Assert.Single(json.RootElement.GetProperty("loops").EnumerateArray());
        Assert.Equal("main loop", loop.GetProperty("name").GetString());
        Assert.True(loop.GetProperty("consistent").GetBoolean());
        var tasks = loop.GetProperty("tasks").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.Equal(6, tasks.Count);
        int main = tasks["main"].GetProperty("id").GetInt32();
        Assert.All(tasks.Values.Where(t => t.GetProperty("id").GetInt32() != main), t => Assert.Equal(main, t.GetProperty("parent").GetInt32()));
        Assert.Equal(5, tasks["main"].GetProperty("children").GetArrayLength());

        Assert.Equal(("waiting", "Worker"), StateAndWait(tasks["main"]));
        Assert.Equal(("waiting", "Timer"), StateAndWait(tasks["ticker"]));
        Assert.InRange(tasks["ticker"].GetProperty("wait").GetProperty("dueMs").GetDouble(), 1, 600_000);
        Assert.Equal(("waiting", "QueueGet"), StateAndWait(tasks["consumer"]));
        Assert.Equal("jobs", tasks["consumer"].GetProperty("wait").GetProperty("name").GetString());
        Assert.Equal(("waiting", "Foreign"), StateAndWait(tasks["foreign"]));
        Assert.Equal(("waiting", "Readable"), StateAndWait(tasks["reader"]));
        Assert.Matches(@"^tcp 127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+$", tasks["reader"].GetProperty("wait").GetProperty("target").GetString());
        foreach (var name in new[] { "ticker", "consumer", "foreign", "reader" })
            Assert.True(tasks[name].GetProperty("waitingMs").GetDouble() > 0, tasks[name].GetRawText());

        // The spinner computes 20 ms a turn and yields: when the loop takes the snapshot, it is queued to run again.
        // Each of its turns but the first spins 20 ms of wall time, so its busy time is at least that many times 20 ms.
        var spinner = tasks["spinner"];
        string row = spinner.GetRawText();
        Assert.Equal("ready", spinner.GetProperty("state").GetString());
        long turns = spinner.GetProperty("turns").GetInt64();
        Assert.True(turns >= 2, row);
        Assert.True(spinner.GetProperty("busyMs").GetDouble() >= 20 * (turns - 1), row);
        Assert.True(spinner.GetProperty("scheduledMs").GetDouble() > 0, row);
        Assert.Contains("(lambda)", spinner.GetProperty("method").GetString(), StringComparison.Ordinal);
    }

    private static (string?, string?) StateAndWait(JsonElement task) =>
        (task.GetProperty("state").GetString(), task.GetProperty("wait").GetProperty("kind").GetString());

    [Fact]
    public void Ps_prints_one_row_per_task_and_tree_draws_them_under_their_parent()
    {
        using var example = WaitingTasks.Start();
        var (code, stdout, stderr) = ToolProcess.Run("ps", example.Pid);
        Assert.True(code == 0, stderr);
        Assert.Contains($"process {example.Pid}", stdout);
        Assert.Matches(@"loop \d+ 'main loop' \((epoll|portable)\): 6 tasks, ready queue \d+, \d+ timers?", stdout);
        var rows = stdout.Split('\n');
        Assert.Contains(rows, r => r.Contains("ticker", StringComparison.Ordinal) && r.Contains("timer", StringComparison.Ordinal) && r.Contains("fires in", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("consumer", StringComparison.Ordinal) && r.Contains("queue 'jobs' (get)", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("spinner", StringComparison.Ordinal) && r.Contains("ready", StringComparison.Ordinal));

        (code, stdout, stderr) = ToolProcess.Run("ps", example.Pid, "--tree");
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n');
        int mainLine = Array.FindIndex(lines, l => l.Contains(" main ", StringComparison.Ordinal) && l.Contains("worker thread", StringComparison.Ordinal));
        Assert.True(mainLine >= 0, stdout);
        int indent = lines[mainLine].IndexOf('#');
        foreach (var name in new[] { "ticker", "reader", "consumer", "foreign", "spinner" })
        {
            var line = Assert.Single(lines, l => l.Contains($" {name} ", StringComparison.Ordinal) || l.EndsWith($" {name}", StringComparison.Ordinal));
            Assert.True(line.IndexOf('#') > indent, $"{name} is not drawn under main:\n{stdout}");
        }
    }

    [Fact]
    public void A_task_that_never_yields_shows_as_running_with_its_method()
    {
        using var example = WaitingTasks.Start("--stuck");
        example.WaitForLine("stuck");
        var (code, stdout, stderr) = ToolProcess.Run("ps", example.Pid, "--json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var loop = Assert.Single(json.RootElement.GetProperty("loops").EnumerateArray());
        Assert.False(loop.GetProperty("consistent").GetBoolean());
        var running = loop.GetProperty("runningTurn");
        Assert.Equal("spinner", running.GetProperty("taskName").GetString());
        Assert.Contains("(lambda)", running.GetProperty("method").GetString(), StringComparison.Ordinal);
        var spinner = Assert.Single(loop.GetProperty("tasks").EnumerateArray(), t => t.GetProperty("name").GetString() == "spinner");
        Assert.Equal("running", spinner.GetProperty("state").GetString());

        (code, stdout, _) = ToolProcess.Run("ps", example.Pid);
        Assert.Equal(0, code);
        Assert.Matches(@"the loop did not answer: task #\d+ 'spinner' has been running [\d.]+ (ms|s) in .* without yielding", stdout);
    }

    [Fact]
    public async Task The_tool_s_servers_show_their_loops_with_connections_and_requests()
    {
        using var server = ToolProcess.Start("echo", "--port", "0", "--loops", "2", "--quiet");
        var url = server.WaitListening();
        using (var http = new HttpClient()) Assert.True((await http.GetAsync(url)).IsSuccessStatusCode);
        var (code, stdout, stderr) = ToolProcess.Run("ps", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var loops = json.RootElement.GetProperty("loops").EnumerateArray().ToList();
        Assert.Equal(["http 0", "http 1"], loops.Select(l => l.GetProperty("name").GetString()).Order());
        Assert.Equal(1, loops.Sum(l => l.GetProperty("figures").GetProperty("requests").GetInt64()));
        Assert.All(loops, l => Assert.True(l.GetProperty("figures").TryGetProperty("connections", out _)));
    }

    [Fact]
    public void With_no_diagnostics_a_server_has_no_endpoint_and_ps_says_so_in_one_line()
    {
        using var server = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "--no-diagnostics");
        server.WaitListening();
        var (code, stdout, stderr) = ToolProcess.Run("ps", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal((1, ""), (code, stdout));
        Assert.Matches($"^meanwhile: Process {server.Pid} has no diagnostics endpoint \\(looked for [^)]+\\): diagnostics are off in it\\. Start it with MEANWHILE_DIAGNOSTICS=1", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void A_loop_that_leaves_diagnostics_to_the_environment_has_them_with_MEANWHILE_DIAGNOSTICS_1_and_not_without()
    {
        using (var on = WaitingTasks.StartLeavingDiagnosticsToEnvironment("1"))
        {
            var (code, stdout, stderr) = ToolProcess.Run("ps", on.Pid, "--json");
            Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
            using var json = JsonDocument.Parse(stdout);
            var loop = Assert.Single(json.RootElement.GetProperty("loops").EnumerateArray());
            Assert.Equal(6, loop.GetProperty("tasks").GetArrayLength());
        }
        using var off = WaitingTasks.StartLeavingDiagnosticsToEnvironment(null);
        var (offCode, offOut, offError) = ToolProcess.Run("ps", off.Pid);
        Assert.Equal((1, ""), (offCode, offOut));
        Assert.Contains($"Process {off.Pid} has no diagnostics endpoint", offError, StringComparison.Ordinal);
    }

    [Fact]
    public void Ps_of_a_process_that_does_not_exist_or_a_bad_pid_says_so_in_one_line()
    {
        var (code, _, stderr) = ToolProcess.Run("ps", "99999999");
        Assert.Equal((1, "meanwhile: No process 99999999 is running."), (code, stderr.Trim()));
        (code, _, stderr) = ToolProcess.Run("ps", "abc");
        Assert.Equal(2, code);
        Assert.Contains("PID must be a process id (a whole number above 0), not 'abc'.", stderr);
    }

    [AsRootFact]
    public void Root_is_refused_by_another_user_s_endpoint()
    {
        using var server = ToolProcess.StartWith(ToolProcess.Unprivileged, "echo", "--port", "0", "--loops", "1");
        server.WaitListening();
        var (code, _, stderr) = ToolProcess.Run("ps", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, code);
        Assert.Contains($"refused: this diagnostics endpoint answers only its process's user (uid 65534); you are uid 0", stderr);
    }
}

/// <summary>A fact about what root may do: root passes file modes, so only the endpoint's own check can turn it away.</summary>
public sealed class AsRootFactAttribute : FactAttribute
{
    public AsRootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
            Skip = "needs root, to run a server as another user with setpriv (CI runs as root); Meanwhile.Tests checks that another user cannot connect";
    }
}

/// <summary>The WaitingTasks example, run with its standard input open (closing it ends the example).</summary>
internal sealed class WaitingTasks : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<(string Text, TaskCompletionSource Seen)> _watches = [];

    private WaitingTasks(string[] args, Action<ProcessStartInfo>? configure = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        configure?.Invoke(info);
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "WaitingTasks.dll"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_lines)
            {
                _lines.Add(e.Data);
                foreach (var (text, seen) in _watches)
                    if (e.Data.StartsWith(text, StringComparison.Ordinal)) seen.TrySetResult();
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Pid => Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Starts the example and waits until its tasks are in place.</summary>
    public static WaitingTasks Start(params string[] args) => Started(new WaitingTasks(args));

    /// <summary>Starts the example with its loop's diagnostics left to <c>MEANWHILE_DIAGNOSTICS</c>, set to <paramref name="variable"/> (null: unset).</summary>
    public static WaitingTasks StartLeavingDiagnosticsToEnvironment(string? variable) =>
        Started(new WaitingTasks(["--diagnostics-from-environment"], info =>
        {
            if (variable is null) info.Environment.Remove("MEANWHILE_DIAGNOSTICS");
            else info.Environment["MEANWHILE_DIAGNOSTICS"] = variable;
        }));

    private static WaitingTasks Started(WaitingTasks example)
    {
        example.WaitForLine("ready");
        return example;
    }

    public void WaitForLine(string start)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            if (_lines.Any(l => l.StartsWith(start, StringComparison.Ordinal))) return;
            _watches.Add((start, seen));
        }
        if (!seen.Task.Wait(ToolProcess.Deadline)) throw new TimeoutException($"WaitingTasks printed no '{start}' line: {string.Join('\n', _lines)}");
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
