using System.Globalization;
using Spectre.Console;

namespace Meanwhile.Cli;

/// <summary>The tasks of a snapshot as a table (one row per task) or as a tree (each task under its parent), for <c>ps</c> and <c>top</c>.</summary>
internal static class TaskTable
{
    private const int MaxChildrenShown = 4;

    /// <summary>One row per task of each loop, in the order given; <paramref name="share"/> adds a first column, top's busy share.</summary>
    public static Table Rows(IEnumerable<(LoopSnapshot Loop, LoopTaskInfo Task)> rows, Func<(LoopSnapshot Loop, LoopTaskInfo Task), string>? share = null)
    {
        var table = new Table().Border(TableBorder.Simple);
        if (share is not null) table.AddColumn(new TableColumn("BUSY%").RightAligned());
        int first = table.Columns.Count;
        table.AddColumns("LOOP", "ID", "NAME", "PARENT", "CHILDREN", "STATE", "WAITS ON", "DETAIL", "FOR", "BUSY", "SCHEDULED", "TURNS", "METHOD");
        foreach (int right in new[] { 1, 3, 8, 9, 10, 11 }) table.Columns[first + right].RightAligned();
        foreach (var row in rows)
        {
            var (loop, task) = row;
            var cells = new List<string>(14);
            if (share is not null) cells.Add(share(row));
            cells.AddRange(
            [
                loop.LoopId.ToString(CultureInfo.InvariantCulture),
                task.Id.ToString(CultureInfo.InvariantCulture),
                Terminal.Escape(task.Name ?? ""),
                task.ParentId == 0 ? "-" : task.ParentId.ToString(CultureInfo.InvariantCulture),
                Children(task.Children),
                State(task.State),
                Terminal.Escape(SnapshotText.WaitsOn(task)),
                Terminal.Escape(SnapshotText.WaitDetail(task)),
                SnapshotText.Duration(SnapshotText.InStateFor(task)),
                SnapshotText.Duration(task.BusyTime),
                SnapshotText.Duration(task.ScheduledTime),
                task.Turns?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
                Terminal.Escape(task.Method ?? ""),
            ]);
            table.AddRow([.. cells]);
        }
        return table;
    }

    /// <summary>A loop's tasks as a tree, each under the task that spawned it.</summary>
    public static Tree Tree(LoopSnapshot loop)
    {
        var tree = new Tree(Terminal.Escape(SnapshotText.LoopSummary(loop)));
        var byParent = loop.Tasks.ToLookup(t => t.ParentId);
        var listed = loop.Tasks.Select(t => t.Id).ToHashSet();
        // Roots: tasks whose parent is not in the snapshot (the main task, or tasks cut off by the bound).
        foreach (var root in loop.Tasks.Where(t => t.ParentId == 0 || !listed.Contains(t.ParentId))) Add(tree, root);
        return tree;

        void Add(IHasTreeNodes parent, LoopTaskInfo task)
        {
            var node = parent.AddNode(task.State == SchedulingState.Running
                ? $"[bold red]{Terminal.Escape(SnapshotText.TreeLabel(task))}[/]"
                : Terminal.Escape(SnapshotText.TreeLabel(task)));
            foreach (var child in byParent[task.Id]) Add(node, child);
        }
    }

    private static string Children(IReadOnlyList<int> children) => children.Count switch
    {
        0 => "-",
        <= MaxChildrenShown => string.Join(",", children),
        _ => $"{string.Join(",", children.Take(MaxChildrenShown))},… ({children.Count})",
    };

    private static string State(SchedulingState state) => state switch
    {
        SchedulingState.Running => "[bold red]running[/]",
        SchedulingState.Ready => "[yellow]ready[/]",
        _ => "waiting",
    };
}
