using System.Threading.Channels;

namespace Meanwhile.Tests;

public class CancellationReachTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMilliseconds(200);

    [Fact]
    public void A_task_awaiting_a_task_the_loop_does_not_run_shows_that_wait()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var foreign = new TaskCompletionSource<int>();
            var waiter = loop.Spawn(async () => await foreign.Task, "waiter");
            var cancellable = loop.Spawn(async () => await loop.Cancellable(foreign.Task), "cancellable");
            var worker = loop.Spawn(async () => await loop.RunOnWorker(() => 1), "worker");
            await loop.Yield();
            var tasks = loop.GetTasks().ToDictionary(t => t.Name ?? "");
            Assert.Equal(new WaitReason(WaitKind.Foreign, 0), tasks["waiter"].WaitingOn);
            Assert.Equal("a task the loop does not run", tasks["waiter"].WaitingOn.ToString());
            Assert.Equal(new WaitReason(WaitKind.Foreign, 1), tasks["cancellable"].WaitingOn);
            Assert.Equal(WaitKind.Worker, tasks["worker"].WaitingOn.Kind); // a loop operation that completes a Task keeps its own reason
            foreign.SetResult(5);
            Assert.Equal(5, await waiter);
            Assert.Equal(5, await cancellable);
            await worker;
            Assert.Equal(WaitKind.None, loop.GetTasks().Single().WaitingOn.Kind);
        });
    }

    [Fact]
    public void Cancellable_ends_a_foreign_wait_with_its_task_or_scope_and_passes_results_and_errors_through()
    {
        var clock = Loops.RunVirtual(async (loop, clock) =>
        {
            var channel = Channel.CreateBounded<int>(1);
            await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(Deadline, async _ => await loop.Cancellable(channel.Reader.ReadAsync())));
            Assert.Equal(Deadline, clock.Elapsed);

            var never = new TaskCompletionSource();
            var task = loop.Spawn(() => loop.Cancellable(never.Task).AsTask());
            await loop.Yield();
            task.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await task);

            var failing = new TaskCompletionSource<string>();
            loop.CallLater(Deadline, () => failing.SetException(new FormatException("bad")));
            await Assert.ThrowsAsync<FormatException>(async () => await loop.Cancellable(failing.Task));
            var ready = new TaskCompletionSource<string>();
            loop.CallLater(Deadline, () => ready.SetResult("done"));
            Assert.Equal("done", await loop.Cancellable(new ValueTask<string>(ready.Task)));
        });
        Assert.Equal(3 * Deadline, clock.Elapsed);
    }

    [Fact]
    public void The_ambient_token_is_cancelled_by_the_innermost_scope_around_the_task()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var channel = Channel.CreateUnbounded<int>();
            await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(Deadline, async _ => await channel.Reader.ReadAsync(LoopTask.CurrentToken)));
            Assert.Equal(Deadline, clock.Elapsed);
            Assert.Equal(LoopTask.Current!.Token, LoopTask.CurrentToken);
            Assert.False(LoopTask.CurrentToken.IsCancellationRequested);

            CancellationToken inCallback = default;
            loop.CallSoon(() => inCallback = LoopTask.CurrentToken);
            await loop.Yield();
            Assert.True(inCallback.CanBeCanceled); // the loop's own: Stop cancels it
            Assert.False(await Task.Run(() => LoopTask.CurrentToken.CanBeCanceled));
        });
    }

    [Fact]
    public void A_timeout_whose_body_cannot_be_reached_returns_the_late_result_and_reports_the_overrun()
    {
        // The probe: WithTimeout(200 ms) around a token-less Channel read returned normally when a writer came
        // 840 ms after the deadline. It still returns (the item must not be lost), but the overrun is reported.
        var errors = new List<LoopError>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var channel = Channel.CreateUnbounded<string>();
            loop.CallLater(Deadline + TimeSpan.FromMilliseconds(840), () => channel.Writer.TryWrite("late item"));
            string item = await loop.WithTimeout(Deadline, async _ => await channel.Reader.ReadAsync());
            Assert.Equal("late item", item);
            Assert.Equal(TimeSpan.FromMilliseconds(1040), clock.Elapsed);
        }, errors.Add);
        var overrun = Assert.IsType<DeadlineOverrunException>(Assert.Single(errors).Exception);
        Assert.Equal(TimeSpan.FromMilliseconds(840), overrun.Overrun);
        Assert.Equal(Deadline, overrun.Timeout);
        Assert.Contains("a task the loop does not run", overrun.Message);
        Assert.Contains("timeout scope", overrun.Message);
    }

    [Fact]
    public void A_body_that_ends_by_its_cancellation_times_out_and_reports_nothing()
    {
        var errors = new List<LoopError>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(Deadline, _ => loop.Delay(TimeSpan.FromSeconds(5)).AsTask()));
            var queue = new LoopQueue<int>();
            await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(Deadline, _ => queue.GetAsync().AsTask()));
        }, errors.Add);
        Assert.Empty(errors);
    }

    [Fact]
    public void When_main_ends_a_task_stuck_on_a_foreign_await_is_reported_and_given_up_after_the_grace_period()
    {
        var errors = new List<LoopError>();
        var foreign = new TaskCompletionSource();
        bool resumed = false;
        var clock = new VirtualClock();
        Loops.Run(async loop =>
        {
            _ = loop.Spawn(async () => { await foreign.Task; resumed = true; }, "stuck");
            _ = loop.Spawn(async () => await loop.Delay(TimeSpan.FromHours(1)), "sleeper"); // cancellable: unwinds at once
            await loop.Yield();
        }, new EventLoopOptions { TimeProvider = clock, OnError = errors.Add, ShutdownGracePeriod = TimeSpan.FromSeconds(3) });

        Assert.Equal(TimeSpan.FromSeconds(3), clock.Elapsed);
        var report = Assert.Single(errors);
        Assert.Equal("stuck", report.TaskName);
        var abandoned = Assert.IsType<AbandonedTaskException>(report.Exception);
        Assert.Equal(WaitKind.Foreign, abandoned.WaitingOn.Kind);
        Assert.Contains("'stuck'", abandoned.Message);

        foreign.SetResult(); // the continuation arrives after the loop ended: dropped and said so, never run
        Assert.False(resumed);
        Assert.Equal(2, errors.Count);
        Assert.Contains("dropped", errors[1].Message);
        Assert.Equal("stuck", errors[1].TaskName);
    }

    [Fact]
    public void Stop_returns_after_the_grace_period_even_when_the_main_task_is_stuck()
    {
        var errors = new List<LoopError>();
        var clock = new VirtualClock();
        Loops.Run(async loop =>
        {
            loop.CallLater(TimeSpan.FromSeconds(1), loop.Stop);
            await new TaskCompletionSource().Task;
        }, new EventLoopOptions { TimeProvider = clock, OnError = errors.Add, ShutdownGracePeriod = TimeSpan.FromSeconds(2) });
        Assert.Equal(TimeSpan.FromSeconds(3), clock.Elapsed);
        Assert.Equal("main", Assert.Single(errors).TaskName);
    }

    [Fact]
    public void An_infinite_grace_period_waits_for_a_stuck_task_as_long_as_it_takes()
    {
        var errors = new List<LoopError>();
        bool resumed = false;
        Loops.Run(async loop =>
        {
            var foreign = new TaskCompletionSource();
            _ = loop.Spawn(async () => { await foreign.Task; resumed = true; });
            await loop.Yield();
            _ = Task.Run(async () =>
            {
                await Task.Delay(100); // after the main task has ended
                foreign.SetResult();
            });
        }, new EventLoopOptions { OnError = errors.Add, ShutdownGracePeriod = Timeout.InfiniteTimeSpan });
        Assert.True(resumed);
        Assert.Empty(errors);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EventLoopOptions { ShutdownGracePeriod = TimeSpan.FromSeconds(-2) });
    }

    [Fact]
    public void A_continuation_that_reaches_a_disposed_loop_is_dropped_and_reported_not_thrown_at_its_completer()
    {
        var errors = new List<LoopError>();
        var foreign = new TaskCompletionSource();
        bool resumed = false;
        Loops.Run(loop =>
        {
            loop.CallSoon(async () => { await foreign.Task; resumed = true; }); // a loop callback: no task to give up
            return loop.Yield().AsTask();
        }, new EventLoopOptions { OnError = errors.Add });
        foreign.SetResult(); // the loop is disposed by now
        Assert.False(resumed);
        Assert.IsType<ObjectDisposedException>(Assert.Single(errors).Exception);
    }
}
