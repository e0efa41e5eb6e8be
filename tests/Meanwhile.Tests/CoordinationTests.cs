namespace Meanwhile.Tests;

public class CoordinationTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void A_lock_passes_to_waiters_in_arrival_order_and_a_releaser_cannot_barge_back_in()
    {
        var log = new List<string>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var gate = new LoopLock("accounts");
            Assert.True(gate.TryAcquire());
            var tasks = Enumerable.Range(0, 3).Select(i => loop.Spawn(async () =>
            {
                await loop.Delay(TimeSpan.FromMilliseconds(i));
                using (await gate.LockAsync())
                {
                    log.Add($"in {i}");
                    await loop.Delay(Second);
                    log.Add($"out {i}");
                }
            }, $"worker {i}")).ToList();
            await loop.Delay(Second);
            Assert.Equal(new WaitReason(WaitKind.Lock, 0, "accounts"), loop.GetTasks().Single(t => t.Name == "worker 0").WaitingOn);
            gate.Release();
            Assert.True(gate.IsLocked); // passed straight to worker 0, which has not run yet
            Assert.False(gate.TryAcquire());
            foreach (var task in tasks) await task;
            Assert.False(gate.IsLocked);
            Assert.Throws<InvalidOperationException>(gate.Release);
        });
        Assert.Equal(["in 0", "out 0", "in 1", "out 1", "in 2", "out 2"], log);
    }

    [Fact]
    public void A_task_cancelled_after_the_lock_was_passed_to_it_passes_it_on()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var gate = new LoopLock();
            await gate.AcquireAsync();
            var first = loop.Spawn(() => gate.AcquireAsync().AsTask());
            var second = loop.Spawn(() => gate.AcquireAsync().AsTask());
            await loop.Yield();
            gate.Release(); // to first
            first.Cancel(); // before it resumed
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first);
            await second;
            Assert.True(gate.IsLocked);
            gate.Release();
            Assert.False(gate.IsLocked);
            await Assert.ThrowsAsync<TimeoutException>(async () =>
            {
                await gate.AcquireAsync();
                await loop.WithTimeout(Second, _ => gate.AcquireAsync().AsTask());
            });
        });
    }

    [Fact]
    public void A_waiter_cancelled_while_the_lock_is_passed_to_it_never_holds_it_and_the_next_live_waiter_does()
    {
        // Async methods awaiting the lock directly: their resumption is queued as the runtime's own continuation.
        var log = new List<string>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var gate = new LoopLock();
            await gate.AcquireAsync();
            async Task Take(string name)
            {
                await gate.AcquireAsync();
                log.Add(name);
                gate.Release();
            }
            var first = loop.Spawn(() => Take("first"));
            var second = loop.Spawn(() => Take("second"));
            var third = loop.Spawn(() => Take("third"));
            await loop.Yield(); // all three wait, in that order
            second.Cancel(); // while pending: it leaves the line
            gate.Release(); // passed to first, whose resumption is queued...
            first.Cancel(); // ...and cancelled before it resumed: first passes it on to third
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await second);
            await third;
            Assert.False(gate.IsLocked);
            for (int round = 0; round < 3; round++) // the waiters' nodes serve again
            {
                await gate.AcquireAsync();
                var next = loop.Spawn(() => Take($"round {round}"));
                await loop.Yield();
                gate.Release();
                await next;
            }
        });
        Assert.Equal(["third", "round 0", "round 1", "round 2"], log);
    }

    [Fact]
    public void A_semaphore_lets_a_number_of_tasks_in_and_a_bounded_one_refuses_extra_releases()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var slots = new LoopSemaphore(2, "slots");
            int inside = 0, most = 0;
            var tasks = Enumerable.Range(0, 6).Select(i => loop.Spawn(async () =>
            {
                await slots.AcquireAsync();
                most = Math.Max(most, ++inside);
                await loop.Delay(Second);
                inside--;
                slots.Release();
            })).ToList();
            foreach (var task in tasks) await task;
            Assert.Equal(2, most);
            Assert.Equal(TimeSpan.FromSeconds(3), clock.Elapsed);
            Assert.Equal(2, slots.CurrentCount);
            slots.Release(3); // a plain semaphore counts up freely
            Assert.Equal(5, slots.CurrentCount);

            var bounded = new LoopBoundedSemaphore(1, "once");
            await bounded.AcquireAsync();
            var waiting = loop.Spawn(() => bounded.AcquireAsync().AsTask(), "second");
            await loop.Yield();
            Assert.Equal(new WaitReason(WaitKind.Semaphore, 0, "once"), loop.GetTasks().Single(t => t.Name == "second").WaitingOn);
            bounded.Release();
            await waiting;
            bounded.Release();
            var error = Assert.Throws<SemaphoreFullException>(() => bounded.Release());
            Assert.Contains("semaphore 'once'", error.Message);
            Assert.Equal(1, bounded.CurrentCount);
        });
    }

    [Fact]
    public void An_event_wakes_every_waiter_in_order_and_lets_later_waits_pass_until_reset()
    {
        var log = new List<int>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var started = new LoopManualResetEvent(name: "started");
            var tasks = Enumerable.Range(0, 3).Select(i => loop.Spawn(async () =>
            {
                await started.WaitAsync();
                log.Add(i);
            }, $"waiter {i}")).ToList();
            await loop.Delay(Second);
            Assert.Equal("event 'started'", loop.GetTasks().Single(t => t.Name == "waiter 1").WaitingOn.ToString());
            started.Set();
            foreach (var task in tasks) await task;
            await started.WaitAsync(); // set: passes at once
            started.Reset();
            Assert.False(started.IsSet);
            await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(Second, _ => started.WaitAsync().AsTask()));
        });
        Assert.Equal([0, 1, 2], log);
    }

    [Fact]
    public void A_condition_hands_its_lock_over_while_waiting_and_takes_it_back_even_when_cancelled()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var ready = new LoopCondition(name: "jobs");
            var jobs = new Queue<int>();
            var consumers = Enumerable.Range(0, 2).Select(i => loop.Spawn(async () =>
            {
                using (await ready.LockAsync())
                {
                    await ready.WaitUntilAsync(() => jobs.Count > 0);
                    Assert.True(ready.Lock.IsLocked);
                    return jobs.Dequeue();
                }
            }, $"consumer {i}")).ToList();
            await loop.Delay(Second);
            Assert.Equal(new WaitReason(WaitKind.Condition, 0, "jobs"), loop.GetTasks().Single(t => t.Name == "consumer 0").WaitingOn);
            Assert.False(ready.Lock.IsLocked); // both gave it up while they wait
            Assert.Throws<InvalidOperationException>(() => ready.Notify());
            using (await ready.LockAsync())
            {
                jobs.Enqueue(10);
                jobs.Enqueue(20);
                ready.NotifyAll();
            }
            Assert.Equal(10, await consumers[0]);
            Assert.Equal(20, await consumers[1]);

            // Cancelled while the lock is held elsewhere: it must hold the lock again before the exception leaves.
            var holder = new LoopLock();
            var timedOut = loop.Spawn(async () =>
            {
                using (await ready.LockAsync())
                {
                    try
                    {
                        await loop.WithTimeout(Second, _ => ready.WaitAsync().AsTask());
                    }
                    catch (TimeoutException)
                    {
                        return ready.Lock.IsLocked;
                    }
                    return false;
                }
            });
            await loop.Delay(TimeSpan.FromMilliseconds(500));
            await ready.Lock.AcquireAsync(); // the waiter's timeout comes while we hold the lock
            await loop.Delay(Second);
            Assert.False(timedOut.IsCompleted);
            ready.Lock.Release();
            Assert.True(await timedOut);
        });
    }

    [Fact]
    public void A_notified_waiter_cancelled_before_it_resumed_passes_the_notification_on()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var condition = new LoopCondition();
            var waiters = Enumerable.Range(0, 2).Select(i => loop.Spawn(async () =>
            {
                using (await condition.LockAsync()) await condition.WaitAsync();
            })).ToList();
            await loop.Delay(Second);
            using (await condition.LockAsync()) condition.Notify(); // to the first
            waiters[0].Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiters[0]);
            await waiters[1];
        });
    }

    [Fact]
    public void A_barrier_releases_a_round_together_and_a_cancelled_party_leaves_it()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var barrier = new LoopBarrier(3, "round");
            var indexes = new List<int>();
            var parties = Enumerable.Range(0, 3).Select(i => loop.Spawn(async () =>
            {
                await loop.Delay(TimeSpan.FromSeconds(i));
                indexes.Add(await barrier.SignalAndWaitAsync());
                return loop.Time.GetUtcNow();
            }, $"party {i}")).ToList();
            await loop.Delay(TimeSpan.FromMilliseconds(1500));
            Assert.Equal(2, barrier.ArrivedCount);
            Assert.Equal("barrier 'round'", loop.GetTasks().Single(t => t.Name == "party 0").WaitingOn.ToString());
            var times = new List<DateTimeOffset>();
            foreach (var party in parties) times.Add(await party);
            Assert.Single(times.Distinct());
            Assert.Equal([2, 0, 1], indexes); // the last to arrive does not wait, and comes first

            var leaving = loop.Spawn(() => barrier.SignalAndWaitAsync().AsTask());
            await loop.Yield();
            Assert.Equal(1, barrier.ArrivedCount);
            leaving.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await leaving);
            Assert.Equal(0, barrier.ArrivedCount);

            var broken = loop.Spawn(() => barrier.SignalAndWaitAsync().AsTask());
            await loop.Yield();
            barrier.Abort();
            await Assert.ThrowsAsync<BarrierBrokenException>(async () => await broken);
            await Assert.ThrowsAsync<BarrierBrokenException>(async () => await barrier.SignalAndWaitAsync());
            barrier.Reset();
            Assert.False(barrier.IsBroken);
        });
    }

    [Fact]
    public void A_watch_gives_waiters_the_latest_value()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var setting = new LoopWatch<string>("initial", "config");
            Assert.Equal(0, setting.Version);
            Assert.Equal("initial", await setting.WaitChangedAsync(-1)); // changed since what the caller saw: at once
            var watcher = loop.Spawn(async () => await setting.WaitChangedAsync(setting.Version), "watcher");
            var until = loop.Spawn(async () => await setting.WaitUntilAsync(v => v.StartsWith('c')));
            await loop.Yield();
            Assert.Equal("watch 'config'", loop.GetTasks().Single(t => t.Name == "watcher").WaitingOn.ToString());
            setting.Set("a");
            setting.Set("b"); // before the watcher resumes: it sees the newest
            Assert.Equal("b", await watcher);
            Assert.Equal(2, setting.Version);
            loop.CallLater(Second, () => setting.Set("c1"));
            Assert.Equal("c1", await until);
            await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(Second, async _ => await setting.WaitChangedAsync(setting.Version)));
        });
    }
}
