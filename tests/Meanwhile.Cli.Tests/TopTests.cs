namespace Meanwhile.Cli.Tests;

/// <summary><c>meanwhile top</c> without a terminal: one frame per refresh, loops and sorted tasks, against real processes.</summary>
public sealed class TopTests
{
    [Fact]
    public void Top_prints_a_frame_per_refresh_with_loop_rates_and_the_busiest_task_first()
    {
        using var example = WaitingTasks.Start();
        var (code, stdout, stderr) = ToolProcess.Run("top", example.Pid, "--iterations", "2", "--interval", "300ms");
        Assert.True(code == 0, stderr);
        var frames = stdout.Split($"process {example.Pid} (", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, frames.Length);
        Assert.Contains("tasks by busy", frames[1]);
        var lines = frames[1].Split('\n');
        // The loop's row: turns/s and busy share are rates between the two refreshes.
        var loop = Assert.Single(lines, l => l.Contains("main loop", StringComparison.Ordinal));
        // Lag: the loop may be too busy to answer within the endpoint's wait on a loaded machine ("no answer").
        Assert.Matches(@"main loop\s+(\S+ (µs|ms|s)|no answer)\s+[\d,]+\s+[\d.]+%\s+\d+\s+\d+\s+\d+\s+6\s+-\s+-\s+\d+", loop);
        // The spinner computes 20 ms per turn: the busiest task, first in the task table.
        var header = Array.FindIndex(lines, l => l.Contains("BUSY%", StringComparison.Ordinal));
        var firstTask = lines.Skip(header + 1).First(l => l.Contains('%'));
        Assert.Contains("spinner", firstTask, StringComparison.Ordinal);
        Assert.Matches(@"^\s*[\d.]+%", firstTask);
    }

    [Fact]
    public async Task Top_shows_a_server_loop_s_connections_and_requests_per_second()
    {
        using var server = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "--quiet");
        var url = server.WaitListening();
        using var top = ToolProcess.Start("top", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--iterations", "2", "--interval", "2s");
        top.WaitForStdout($"process {server.Pid} (");
        // Between the two frames: requests on one kept-alive connection (the client's pool keeps it open).
        using var http = new HttpClient();
        const int requests = 30;
        for (int i = 0; i < requests; i++) Assert.True((await http.GetAsync(url)).IsSuccessStatusCode);
        Assert.Equal(0, top.WaitForExit());

        var frames = top.Stdout.Split($"process {server.Pid} (", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, frames.Length);
        var row = Assert.Single(frames[1].Split('\n'), l => l.Contains("http 0", StringComparison.Ordinal));
        // Columns after the name: lag, turns/s, busy, ready, timers, descriptors, tasks, connections, requests/s, slow turns.
        var match = System.Text.RegularExpressions.Regex.Match(row, @"http 0\s+(\S+ (µs|ms|s)|no answer)\s+[\d,]+\s+[\d.]+%\s+\d+\s+\d+\s+\d+\s+\d+\s+(?<connections>\d+)\s+(?<rate>[\d,]+)\s+\d+");
        Assert.True(match.Success, row);
        Assert.Equal("1", match.Groups["connections"].Value);
        // 30 requests over at least the 2 s between the frames: a rate of 1 to 15 a second.
        Assert.InRange(int.Parse(match.Groups["rate"].Value, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture), 1, requests / 2);
    }

    [Fact]
    public void Top_shows_a_task_that_never_yields_first_as_running_and_sorts_by_id_when_asked()
    {
        using var example = WaitingTasks.Start("--stuck");
        example.WaitForLine("stuck");
        var (code, stdout, stderr) = ToolProcess.Run("top", example.Pid, "--iterations", "1", "--sort", "id");
        Assert.True(code == 0, stderr);
        Assert.Contains("tasks by id", stdout);
        Assert.Contains("no answer", stdout);
        Assert.Matches(@"loop \d+: the loop did not answer: task #\d+ 'spinner' has been running", stdout);
        var lines = stdout.Split('\n');
        var header = Array.FindIndex(lines, l => l.Contains("BUSY%", StringComparison.Ordinal));
        var rows = lines.Skip(header + 1).ToList();
        int spinner = rows.FindIndex(l => l.Contains(" spinner ", StringComparison.Ordinal));
        int main = rows.FindIndex(l => l.Contains(" main ", StringComparison.Ordinal));
        int ticker = rows.FindIndex(l => l.Contains(" ticker ", StringComparison.Ordinal));
        Assert.True(spinner >= 0 && spinner < main && main < ticker, stdout); // running first, then by id
        Assert.Contains("running", rows[spinner], StringComparison.Ordinal);
    }

    [Fact]
    public void Top_of_a_process_without_diagnostics_says_so_in_one_line()
    {
        using var server = ToolProcess.Start("echo", "--port", "0", "--loops", "1", "--no-diagnostics");
        server.WaitListening();
        var (code, stdout, stderr) = ToolProcess.Run("top", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--iterations", "1");
        Assert.Equal((1, ""), (code, stdout));
        Assert.Contains("has no diagnostics endpoint", stderr);
    }
}
