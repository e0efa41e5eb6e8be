using System.Globalization;
using System.Text.RegularExpressions;

namespace Meanwhile.Cli.Tests;

public sealed partial class DemoTests
{
    [Fact]
    public void Demo_with_no_arguments_reports_a_speed_up_and_draws_every_request()
    {
        string html = Path.Combine(Path.GetTempPath(), $"meanwhile-demo-{Guid.NewGuid():N}.html");
        try
        {
            var (code, stdout, stderr) = ToolProcess.Run("demo", "--html", html);
            Assert.True(code == 0, stderr + stdout);
            Assert.False(stdout.Contains((char)27), "escape codes in piped output"); // piped: no escape codes

            var speedUp = SpeedUp().Match(stdout);
            Assert.True(speedUp.Success, stdout);
            Assert.True(double.Parse(speedUp.Groups[1].Value, CultureInfo.InvariantCulture) >= 5, stdout);

            // Every step of the diagram, on each side, names all twenty pages between its rows.
            foreach (var step in new[] { "[connect]", "[send the request]", "[response received]", "[accept the connection]", "[request received]", "[build the page]", "[send the response]" })
                Assert.Equal(Enumerable.Range(1, 20), PagesOf(stdout, step));
            Assert.Contains("waiting", stdout);

            string page = File.ReadAllText(html);
            Assert.Contains("<svg", page);
            Assert.DoesNotContain("http://", page.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal)); // self-contained
            for (int i = 1; i <= 20; i++) Assert.Contains($">page {i}</text>", page);
        }
        finally
        {
            File.Delete(html);
        }
    }

    [Fact]
    public void Demo_options_change_the_run()
    {
        var (code, stdout, stderr) = ToolProcess.Run("demo", "--pages", "4", "--wait", "50ms", "--concurrency", "2");
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("fetches 4 pages", stdout);
        Assert.Equal(Enumerable.Range(1, 4), PagesOf(stdout, "[response received]"));
        Assert.Contains("2 at a time", stdout);
    }

    [Fact]
    public void Every_note_of_the_diagram_starts_in_one_column()
    {
        var (code, stdout, stderr) = ToolProcess.Run("demo", "--pages", "3", "--wait", "20ms");
        Assert.True(code == 0, stderr + stdout);
        // The notes: "pages 1-3, tasks #5-#7" beside each step, and "waiting 20.4 ms: ..." beside the dots.
        var notes = stdout.Split('\n').Where(l => Pages().IsMatch(l) || l.Contains("in flight, nothing to run", StringComparison.Ordinal)).ToList();
        Assert.True(notes.Count >= 8, stdout);
        var columns = notes.Select(l => Math.Max(Pages().Match(l).Index, l.IndexOf("waiting ", StringComparison.Ordinal))).Distinct().ToList();
        Assert.True(columns.Count == 1, $"notes start in columns {string.Join(", ", columns)}:\n{string.Join('\n', notes)}");
    }

    [Fact]
    public void Help_shows_durations_as_users_type_them()
    {
        var (code, stdout, _) = ToolProcess.Run("demo", "--help");
        Assert.Equal(0, code);
        Assert.Contains("[default: 200ms]", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("00:00:", stdout, StringComparison.Ordinal);
        (code, stdout, _) = ToolProcess.Run("serve", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--shutdown-timeout <duration>", stdout, StringComparison.Ordinal);
        Assert.Contains("[default: 5s]", stdout, StringComparison.Ordinal);
        (code, stdout, _) = ToolProcess.Run("bench", "--help");
        Assert.Contains("[default: 10s]", stdout, StringComparison.Ordinal);
        Assert.Contains("[default: 2s]", stdout, StringComparison.Ordinal);
    }

    /// <summary>The pages named by the diagram rows of one step ("pages 1-3,5, tasks ..." or "page 7, task ...").</summary>
    private static IEnumerable<int> PagesOf(string output, string step)
    {
        var pages = new SortedSet<int>();
        foreach (var line in output.Split('\n').Where(l => l.Contains(step, StringComparison.Ordinal)))
        {
            var m = Pages().Match(line);
            Assert.True(m.Success, line);
            foreach (var part in m.Groups[1].Value.Split(','))
            {
                var bounds = part.Split('-').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                for (int p = bounds[0]; p <= bounds[^1]; p++) pages.Add(p);
            }
        }
        return pages;
    }

    [GeneratedRegex(@"speed-up: (\d+\.\d)×")]
    private static partial Regex SpeedUp();

    [GeneratedRegex(@"pages? ([\d,-]+), tasks? ")]
    private static partial Regex Pages();
}
