using System.Globalization;
using Meanwhile.Http.Client;
using Meanwhile.Http.Server;

namespace Meanwhile.Cli;

/// <summary>Which side of the exchange a step belongs to.</summary>
internal enum Side { Browser, Server }

/// <summary>One step of one exchange, as recorded: when, which side, which task, which page.</summary>
/// <param name="Time">Since the recording started.</param>
/// <param name="Side">Browser or server.</param>
/// <param name="Kind">One of the <see cref="ClientMarks"/> or <see cref="ServerMarks"/> labels, or <see cref="DemoRun.BuildPageMark"/>.</param>
/// <param name="TaskId">The loop task that recorded it (a browser fetch, or a server connection).</param>
/// <param name="Page">The page the exchange is about.</param>
internal readonly record struct Step(TimeSpan Time, Side Side, string Kind, int TaskId, int Page);

/// <summary>One request of the concurrent run: its steps' times on both sides.</summary>
internal sealed record Lane(int Page, int BrowserTask, int ServerTask, TimeSpan Connect, TimeSpan Sent, TimeSpan ServerReceived, TimeSpan ServerSent, TimeSpan Received)
{
    /// <summary>What the browser waited for its answer: from the request sent to the response received.</summary>
    public TimeSpan Waiting => Received - Sent;
}

/// <summary>
/// Reads a loop recording back into the exchanges it holds. Browser tasks are named after their page when spawned;
/// a server connection's task is tied to its page by the page handler's mark, recorded in that task.
/// </summary>
internal sealed class Timeline
{
    private Timeline(IReadOnlyList<Step> steps, IReadOnlyList<Lane> lanes, TimeSpan end)
    {
        Steps = steps;
        Lanes = lanes;
        End = end;
    }

    /// <summary>Every recorded step, oldest first.</summary>
    public IReadOnlyList<Step> Steps { get; }

    /// <summary>One lane per request that completed, by page.</summary>
    public IReadOnlyList<Lane> Lanes { get; }

    /// <summary>The time of the last step.</summary>
    public TimeSpan End { get; }

    /// <summary>Builds the timeline of a recording.</summary>
    public static Timeline From(IReadOnlyList<LoopEvent> events)
    {
        // Browser tasks fetch one page each and are named after it. A server connection may serve several pages
        // (keep-alive): its steps belong to the page of the handler's next mark (accept, request received) or of its
        // last one (response sent).
        var pageOfTask = new Dictionary<int, int>();
        var buildMarks = new Dictionary<int, List<(int Index, int Page)>>();
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (e.Kind == LoopEventKind.TaskSpawned && e.Label is { } name && name.StartsWith(DemoRun.PageTaskName, StringComparison.Ordinal))
                pageOfTask[e.TaskId] = ParsePage(name, DemoRun.PageTaskName);
            else if (e.Kind == LoopEventKind.Mark && e.Label is { } mark && mark.StartsWith(DemoRun.BuildPageMark, StringComparison.Ordinal))
            {
                if (!buildMarks.TryGetValue(e.TaskId, out var marks)) buildMarks[e.TaskId] = marks = [];
                marks.Add((i, ParsePage(mark, DemoRun.BuildPageMark)));
            }
        }

        var steps = new List<Step>();
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (e.Kind != LoopEventKind.Mark || e.Label is not { } label) continue;
            bool build = label.StartsWith(DemoRun.BuildPageMark, StringComparison.Ordinal);
            int page;
            Side side;
            if (label is ClientMarks.Connect or ClientMarks.RequestSent or ClientMarks.ResponseReceived && pageOfTask.TryGetValue(e.TaskId, out page))
                side = Side.Browser;
            else if ((build || label is ServerMarks.ConnectionAccepted or ServerMarks.RequestReceived or ServerMarks.ResponseSent) && buildMarks.TryGetValue(e.TaskId, out var marks))
            {
                side = Side.Server;
                int index = i;
                var owner = label == ServerMarks.ResponseSent
                    ? marks.LastOrDefault(m => m.Index < index)
                    : marks.FirstOrDefault(m => m.Index >= index);
                if (owner == default) continue;
                page = owner.Page;
            }
            else continue; // other marks (connected) are not drawn
            steps.Add(new Step(e.Time, side, build ? DemoRun.BuildPageMark : label, e.TaskId, page));
        }

        var lanes = new List<Lane>();
        foreach (var group in steps.GroupBy(s => s.Page).OrderBy(g => g.Key))
        {
            TimeSpan? At(Side side, string step) => group.Where(s => s.Side == side && s.Kind == step).Select(s => (TimeSpan?)s.Time).FirstOrDefault();
            var connect = At(Side.Browser, ClientMarks.Connect) ?? At(Side.Browser, ClientMarks.RequestSent);
            var sent = At(Side.Browser, ClientMarks.RequestSent);
            var received = At(Side.Browser, ClientMarks.ResponseReceived);
            var serverReceived = At(Side.Server, ServerMarks.RequestReceived);
            var serverSent = At(Side.Server, ServerMarks.ResponseSent);
            if (connect is null || sent is null || received is null || serverReceived is null || serverSent is null) continue;
            int browserTask = group.First(s => s.Side == Side.Browser).TaskId;
            int serverTask = group.First(s => s.Side == Side.Server).TaskId;
            lanes.Add(new Lane(group.Key, browserTask, serverTask, connect.Value, sent.Value, serverReceived.Value, serverSent.Value, received.Value));
        }
        return new Timeline(steps, lanes, steps.Count > 0 ? steps[^1].Time : TimeSpan.Zero);
    }

    private static int ParsePage(string label, string prefix) =>
        int.TryParse(label.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int page) ? page : -1;
}
