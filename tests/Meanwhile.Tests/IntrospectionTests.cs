
namespace Meanwhile.Tests;

public class IntrospectionTests
{
    [Fact]
    public void The_loop_lists_its_live_tasks_and_what_each_waits_on()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            using var gate = new ManualResetEventSlim();
            var sleeper = loop.Spawn(() => loop.Delay(TimeSpan.FromSeconds(5)).AsTask(), "sleeper");
            var worker = loop.Spawn(() => loop.RunOnWorker(() => gate.Wait()), "worker");
            var joiner = loop.Spawn(async () => await sleeper, "joiner");
            var group = loop.Spawn(() => TaskGroup.RunAsync(async g => { _ = g.Spawn(() => loop.Delay(TimeSpan.FromSeconds(5)).AsTask(), "grouped"); await Task.CompletedTask; }), "group owner");
            for (int turn = 0; turn < 3; turn++) await loop.Yield(); // owner, then group body, then grouped task start

            var tasks = loop.GetTasks().ToDictionary(t => t.Name ?? $"#{t.Id}");
            Assert.Equal(WaitKind.Timer, tasks["sleeper"].WaitingOn.Kind);
            Assert.Equal(WaitKind.Worker, tasks["worker"].WaitingOn.Kind);
            Assert.Equal(new WaitReason(WaitKind.Task, sleeper.Id), tasks["joiner"].WaitingOn);
            Assert.Equal(WaitKind.Tasks, tasks["group owner"].WaitingOn.Kind);
            Assert.Equal(WaitKind.Timer, tasks["grouped"].WaitingOn.Kind);
            Assert.Equal(group.Id, tasks["grouped"].ParentId);
            Assert.All(tasks.Values, t => Assert.Equal(LoopTaskStatus.Running, t.Status));
            Assert.Equal("main", tasks["main"].Name);
            Assert.Equal(WaitKind.None, tasks["main"].WaitingOn.Kind); // it is the one running

            gate.Set();
            await worker;
            await joiner;
            await group;
            Assert.Equal(["main"], loop.GetTasks().Select(t => t.Name));
        });
    }

    [Fact]
    public void The_recorder_keeps_timestamped_task_and_wait_events_and_is_off_by_default()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            Assert.False(loop.Recorder.IsEnabled);
            await loop.Spawn(() => loop.Delay(TimeSpan.FromSeconds(1)).AsTask(), "unrecorded");
            Assert.Empty(loop.Recorder.Events);

            loop.Recorder.Start();
            var task = loop.Spawn(async () =>
            {
                loop.Recorder.Mark("request sent");
                await loop.Delay(TimeSpan.FromSeconds(2));
                loop.Recorder.Mark("response received");
            }, "browser");
            await task;
            loop.Recorder.Stop();

            var events = loop.Recorder.Events.Where(e => e.TaskId == task.Id).ToList();
            Assert.Equal(
                [LoopEventKind.TaskSpawned, LoopEventKind.TaskStarted, LoopEventKind.Mark, LoopEventKind.WaitStarted, LoopEventKind.WaitEnded, LoopEventKind.Mark, LoopEventKind.TaskCompleted],
                events.Select(e => e.Kind));
            var sent = events.Single(e => e.Label == "request sent");
            var received = events.Single(e => e.Label == "response received");
            Assert.Equal(TimeSpan.FromSeconds(2), received.Time - sent.Time);
            Assert.Equal(WaitKind.Timer, events.Single(e => e.Kind == LoopEventKind.WaitStarted).Reason.Kind);
            Assert.Equal("browser", events[0].Label);
        });
    }
}
