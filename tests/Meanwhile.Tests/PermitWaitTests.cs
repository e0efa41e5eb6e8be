namespace Meanwhile.Tests;

/// <summary>The paths of a lock's or semaphore's wait that the hand-off benchmark does not take.</summary>
public class PermitWaitTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void A_wait_given_a_token_leaves_the_line_when_the_token_fires_and_a_granted_one_keeps_the_lock()
    {
        var log = new List<string>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var gate = new LoopLock("ledger");
            await gate.AcquireAsync();
            using var early = new CancellationTokenSource();
            early.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await gate.AcquireAsync(early.Token));

            using var onLoop = new CancellationTokenSource();
            using var offLoop = new CancellationTokenSource();
            using var late = new CancellationTokenSource();
            async Task Take(string name, CancellationToken token)
            {
                await gate.AcquireAsync(token);
                log.Add(name);
                await loop.Delay(Second);
                gate.Release();
            }
            var first = loop.Spawn(() => Take("first", onLoop.Token), "first");
            var second = loop.Spawn(() => Take("second", offLoop.Token), "second");
            var third = loop.Spawn(() => Take("third", late.Token), "third");
            await loop.Yield();
            Assert.Equal(new WaitReason(WaitKind.Lock, 0, "ledger"), loop.GetTasks().Single(t => t.Name == "second").WaitingOn);
            onLoop.Cancel();
            await Task.Run(offLoop.Cancel); // fires on a pool thread: the cancellation is posted to the loop
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await second);
            gate.Release(); // to third
            late.Cancel(); // once granted, the grant stands
            await third;
            Assert.False(gate.IsLocked);
        });
        Assert.Equal(["third"], log);
    }

    [Fact]
    public void More_waiters_than_the_semaphore_keeps_nodes_for_are_served_in_arrival_order_round_after_round()
    {
        var log = new List<int>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var semaphore = new LoopSemaphore(0, "slots");
            for (int round = 0; round < 3; round++)
            {
                var tasks = Enumerable.Range(0, 20).Select(i => loop.Spawn(async () =>
                {
                    await semaphore.AcquireAsync();
                    log.Add(i);
                })).ToList();
                await loop.Yield();
                Assert.All(tasks, t => Assert.False(t.IsCompleted));
                semaphore.Release(7);
                semaphore.Release(13);
                foreach (var task in tasks) await task;
                Assert.Equal(0, semaphore.CurrentCount);
            }
        });
        Assert.Equal(Enumerable.Range(0, 3).SelectMany(_ => Enumerable.Range(0, 20)), log);
    }

    [Fact]
    public void A_wait_outside_any_task_resumes_its_callback_and_a_hand_written_awaiter_gets_its_execution_context()
    {
        var log = new List<string>();
        var flowed = new AsyncLocal<string>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var gate = new LoopLock();
            await gate.AcquireAsync();
            loop.Post(() =>
            {
                var wait = gate.AcquireAsync(); // in a loop callback: no task owns the wait
                Assert.False(wait.IsCompleted);
                wait.GetAwaiter().UnsafeOnCompleted(() =>
                {
                    log.Add($"callback got it, task {LoopTask.Current?.Id.ToString() ?? "none"}");
                    gate.Release();
                });
            });
            await loop.Yield();
            gate.Release(); // to the callback

            flowed.Value = "request 7";
            await gate.AcquireAsync();
            var other = loop.Spawn(async () =>
            {
                flowed.Value = "request 8";
                var wait = gate.AcquireAsync();
                var done = new TaskCompletionSource();
                wait.GetAwaiter().OnCompleted(() => // OnCompleted, unlike UnsafeOnCompleted, flows the execution context
                {
                    log.Add($"flowed {flowed.Value}");
                    done.SetResult();
                });
                flowed.Value = "changed after";
                await done.Task;
            });
            await loop.Yield();
            gate.Release();
            await other;
            Assert.Equal("request 7", flowed.Value);
        });
        Assert.Equal(["callback got it, task none", "flowed request 8"], log);
    }

    [Fact]
    public void A_wait_awaited_twice_throws_and_the_recorder_sees_a_lock_wait_start_and_end()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var gate = new LoopLock("journal");
            await gate.AcquireAsync();
            loop.Recorder.Start();
            LoopTask? waiter = null;
            waiter = loop.Spawn(async () =>
            {
                var wait = gate.AcquireAsync();
                await wait;
                await Assert.ThrowsAsync<InvalidOperationException>(async () => await wait);
                gate.Release();
            }, "waiter");
            await loop.Yield();
            gate.Release();
            await waiter;
            loop.Recorder.Stop();
            var waits = loop.Recorder.Events.Where(e => e.TaskId == waiter.Id && e.Kind is LoopEventKind.WaitStarted or LoopEventKind.WaitEnded).ToList();
            Assert.Equal([LoopEventKind.WaitStarted, LoopEventKind.WaitEnded], waits.Select(e => e.Kind));
            Assert.All(waits, e => Assert.Equal(new WaitReason(WaitKind.Lock, 0, "journal"), e.Reason));
        });
    }

    [Fact]
    public void A_semaphore_wait_ends_at_a_deadline_with_no_token_and_a_task_cancelled_while_waiting_never_holds_a_permit()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var semaphore = new LoopSemaphore(1);
            await semaphore.AcquireAsync();
            await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(Second, _ => semaphore.AcquireAsync().AsTask()));
            var cancelled = loop.Spawn(async () => await semaphore.AcquireAsync());
            var next = loop.Spawn(async () => await semaphore.AcquireAsync());
            await loop.Yield();
            cancelled.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
            semaphore.Release();
            await next; // the only live waiter got the permit
            Assert.Equal(0, semaphore.CurrentCount);
            semaphore.Release();
            Assert.Equal(1, semaphore.CurrentCount);
        });
    }
}
