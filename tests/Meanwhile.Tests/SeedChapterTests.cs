using Meanwhile.Examples;

namespace Meanwhile.Tests;

/// <summary>The seed chapter's examples, run as the test suite (examples/SeedChapter).</summary>
public class SeedChapterTests
{
    [Fact]
    public void TicTac_two_coroutines_interleave()
    {
        var output = new StringWriter();
        Loops.RunVirtual((_, _) => TicTac.RunAsync(output));
        Assert.Equal(["Tic", "Tic", "Tac", "Tac"], Lines(output));
    }

    [Fact]
    public void FastFood_takes_4_seconds_concurrently_and_8_sequentially()
    {
        var output = new StringWriter();
        TimeSpan sequential = default, concurrent = default;
        var clock = Loops.RunVirtual(async (_, _) =>
        {
            sequential = await FastFood.ServeSequentiallyAsync(output);
            concurrent = await FastFood.ServeConcurrentlyAsync(output);
        });
        Assert.Equal(TimeSpan.FromSeconds(8), sequential);
        Assert.Equal(TimeSpan.FromSeconds(4), concurrent);
        Assert.Equal(TimeSpan.FromSeconds(12), clock.Elapsed);
        var lines = Lines(output);
        // Concurrently, every item starts before the first is ready, and they finish in order of their times.
        Assert.Equal(["start soda", "start burger", "start fries", "soda ready", "burger ready", "fries ready"], lines[6..]);
    }

    [Fact]
    public void Cancellation_of_the_parent_stops_its_children()
    {
        var output = new StringWriter();
        var clock = Loops.RunVirtual((_, _) => Cancellation.RunAsync(output));
        var lines = Lines(output);
        Assert.Contains("parent: cancelling", lines);
        Assert.Contains("fast: cancelled", lines);
        Assert.Contains("slow: cancelled", lines);
        Assert.Equal("parent: cancelled", lines[^1]);
        Assert.Equal(2, lines.Count(l => l.StartsWith("slow: tick", StringComparison.Ordinal)));
        Assert.Equal(TimeSpan.FromSeconds(2.5), clock.Elapsed); // the parent's 10 s sleep never ran
    }

    [Fact]
    public async Task Examples_program_runs_every_step()
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet", [typeof(TicTac).Assembly.Location, "all", "--virtual"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(psi)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = await process.StandardOutput.ReadToEndAsync(deadline.Token);
        await process.WaitForExitAsync(deadline.Token);
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("all at once: 4.0 s", stdout);
        Assert.Contains("one after the other: 8.0 s", stdout);
    }

    private static string[] Lines(StringWriter output) =>
        output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
