using System.Globalization;
using System.Text;
using Meanwhile.Http.Client;
using Meanwhile.Http.Server;

namespace Meanwhile.Cli;

/// <summary>
/// Draws a recorded run as the seed chapter's diagram: the browser on the left, the web server on the right, arrows
/// for what goes over the wire, and dots for waiting. Consecutive steps of one kind (twenty connects in one loop
/// turn) share a row that names every page and task; a long stretch where nothing happened is drawn as dots, with
/// its length and how many requests were waiting.
/// </summary>
internal static class SequenceDiagram
{
    private const int TimeWidth = 9;
    private const int BrowserWidth = 21;
    private const int ArrowWidth = 11;
    private const int ServerWidth = 23; // the longest label, "[accept the connection]": every note then starts in one column

    /// <summary>The diagram as lines of Spectre markup.</summary>
    public static IReadOnlyList<string> Render(Timeline timeline)
    {
        var lines = new List<string>
        {
            Row("", "[bold]Browser[/]", "", "[bold]Web server[/]", ""),
            Row("", "=======", "", "==========", ""),
        };
        var rows = Group(timeline.Steps);
        // A gap worth drawing: long against the run, and long in absolute terms (not the loop's own bookkeeping).
        var longGap = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(5).Ticks, timeline.End.Ticks / 10));
        TimeSpan? previous = null;
        foreach (var row in rows)
        {
            if (previous is { } before && row.Time - before >= longGap)
            {
                int waiting = InFlight(timeline, before);
                string note = $"[grey]waiting {Ms(row.Time - before)}: {waiting} request{(waiting == 1 ? "" : "s")} in flight, nothing to run[/]";
                lines.Add(Row("", "[grey].[/]", "", "[grey].[/]", ""));
                lines.Add(Row("", "[grey].[/]", "", "[grey].[/]", note));
                lines.Add(Row("", "[grey].[/]", "", "[grey].[/]", ""));
            }
            previous = row.Time;
            string label = Label(row.Step);
            string who = Who(row);
            if (row.Side == Side.Browser)
            {
                string arrow = row.Step is ClientMarks.Connect or ClientMarks.RequestSent ? "[blue]------>[/]" : "";
                lines.Add(Row(Ms(row.Time), $"[cyan]{label}[/]", arrow, "[grey].[/]", who));
            }
            else
            {
                string arrow = row.Step is ServerMarks.ConnectionAccepted or ServerMarks.ResponseSent ? "[green]<------[/]" : "";
                lines.Add(Row(Ms(row.Time), "[grey].[/]", arrow, $"[yellow]{label}[/]", who));
            }
        }
        return lines;
    }

    private sealed record DiagramRow(TimeSpan Time, Side Side, string Step, List<Step> Steps);

    /// <summary>
    /// Splits the steps into bursts (consecutive steps of one side: one loop turn serving every connection) and gives
    /// each kind of step in a burst one row, in the order the kinds first appear, naming every page it concerns.
    /// </summary>
    private static List<DiagramRow> Group(IReadOnlyList<Step> steps)
    {
        var rows = new List<DiagramRow>();
        int burstStart = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            if (i > 0 && steps[i].Side != steps[i - 1].Side) burstStart = rows.Count;
            var row = rows.Skip(burstStart).FirstOrDefault(r => r.Step == steps[i].Kind);
            if (row is null) rows.Add(new DiagramRow(steps[i].Time, steps[i].Side, steps[i].Kind, [steps[i]]));
            else row.Steps.Add(steps[i]);
        }
        return rows;
    }

    private static int InFlight(Timeline timeline, TimeSpan at) => timeline.Lanes.Count(l => l.Connect <= at && l.Received > at);

    private static string Label(string step) => step switch
    {
        ClientMarks.Connect => "[[connect]]",
        ClientMarks.RequestSent => "[[send the request]]",
        ClientMarks.ResponseReceived => "[[response received]]",
        ServerMarks.ConnectionAccepted => "[[accept the connection]]",
        ServerMarks.RequestReceived => "[[request received]]",
        DemoRun.BuildPageMark => "[[build the page]]",
        ServerMarks.ResponseSent => "[[send the response]]",
        _ => step,
    };

    private static string Who(DiagramRow row)
    {
        var pages = row.Steps.Select(s => s.Page).Distinct().Order().ToList();
        var tasks = row.Steps.Select(s => s.TaskId).Distinct().Order().ToList();
        string p = pages.Count == 1 ? $"page {pages[0]}" : $"pages {Ranges(pages, "")}";
        string t = tasks.Count == 1 ? $"task #{tasks[0]}" : $"tasks {Ranges(tasks, "#")}";
        return $"[grey]{p}, {t}[/]";
    }

    /// <summary>1,2,3,5 → "1-3,5".</summary>
    internal static string Ranges(IReadOnlyList<int> sorted, string prefix)
    {
        var text = new StringBuilder();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            if (text.Length > 0) text.Append(',');
            text.Append(CultureInfo.InvariantCulture, $"{prefix}{sorted[i]}");
            if (j > i) text.Append(CultureInfo.InvariantCulture, $"-{prefix}{sorted[j]}");
            i = j + 1;
        }
        return text.ToString();
    }

    private static string Ms(TimeSpan time) => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0.0} ms");

    /// <summary>One row; widths are of the visible text, since markup tags take no room on screen.</summary>
    private static string Row(string time, string browser, string arrow, string server, string note)
    {
        int browserLength = Markup(browser), arrowLength = Markup(arrow), serverLength = Markup(server);
        var line = new StringBuilder();
        line.Append(time.PadLeft(TimeWidth)).Append("  ");
        // Dots stand under the middle of their column, labels against the arrows, as in the seed.
        if (browserLength == 1) line.Append(' ', BrowserWidth / 2).Append(browser).Append(' ', BrowserWidth - BrowserWidth / 2 - 1);
        else line.Append(' ', Math.Max(0, BrowserWidth - browserLength)).Append(browser);
        int left = (ArrowWidth - arrowLength) / 2;
        line.Append(' ', left).Append(arrow).Append(' ', ArrowWidth - arrowLength - left);
        if (serverLength == 1) line.Append(' ', ServerWidth / 2).Append(server).Append(' ', ServerWidth - ServerWidth / 2 - 1);
        else line.Append(server).Append(' ', Math.Max(0, ServerWidth - serverLength));
        if (note.Length > 0) line.Append("  ").Append(note);
        return line.ToString().TrimEnd();
    }

    private static int Markup(string markup) => Spectre.Console.Markup.Remove(markup).Length;
}
