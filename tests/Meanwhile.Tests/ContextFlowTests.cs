using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Meanwhile.Tests;

public class ContextFlowTests
{
    private static readonly AsyncLocal<string?> Request = new();

    [Fact]
    public void A_spawned_task_starts_with_its_spawners_async_locals_activity_culture_and_logging_scopes()
    {
        Loops.Run(async loop =>
        {
            var scopes = new LoggerExternalScopeProvider();
            using var activity = new Activity("request").Start();
            CultureInfo.CurrentCulture = new CultureInfo("fr-FR");
            Request.Value = "r-1";
            using var scope = scopes.Push("order 42");

            var child = loop.Spawn(async () =>
            {
                await loop.Yield(); // still there after an await
                var seen = new List<string?>();
                scopes.ForEachScope((s, list) => list.Add(s?.ToString()), seen);
                var result = (Request.Value, Activity.Current?.Id, CultureInfo.CurrentCulture.Name, string.Join(",", seen));
                Request.Value = "changed by the child"; // does not leak back to the parent
                return result;
            });
            Assert.Equal(("r-1", activity.Id, "fr-FR", "order 42"), await child);
            Assert.Equal("r-1", Request.Value);
        });
    }

    [Fact]
    public void A_task_spawned_before_a_value_was_set_or_with_the_flow_suppressed_does_not_see_it()
    {
        Loops.Run(async loop =>
        {
            var early = loop.Spawn(async () => { await loop.Yield(); return Request.Value; });
            Request.Value = "later";
            Assert.Null(await early);
            LoopTask<string?> suppressed;
            using (ExecutionContext.SuppressFlow()) suppressed = loop.Spawn<string?>(() => Task.FromResult<string?>(Request.Value));
            Assert.Null(await suppressed);
        });
    }

    [Fact]
    public void Group_tasks_callbacks_timers_and_posts_run_in_their_callers_context()
    {
        var seen = new List<string?>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            Request.Value = "caller";
            await TaskGroup.RunAsync(group =>
            {
                group.Spawn(async () => { await loop.Yield(); seen.Add($"group {Request.Value}"); });
                return Task.CompletedTask;
            });
            var done = new TaskCompletionSource();
            loop.CallSoon(() => seen.Add($"soon {Request.Value}"));
            loop.CallLater(TimeSpan.FromSeconds(1), () => seen.Add($"later {Request.Value}"));
            await loop.Delay(TimeSpan.FromSeconds(2));
            await loop.WhenAll(Task.Run(() =>
            {
                Request.Value = "poster";
                loop.Post(() => { seen.Add($"post {Request.Value}"); done.SetResult(); });
            }));
            await done.Task;
            Assert.Equal("caller", Request.Value);
        });
        Assert.Equal(["group caller", "soon caller", "later caller", "post poster"], seen);
    }
}
