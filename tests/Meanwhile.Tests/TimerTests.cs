using System.Diagnostics;

namespace Meanwhile.Tests;

public class TimerTests
{
    [Fact]
    public void Timers_never_fire_early_and_fire_in_deadline_order_on_the_real_clock()
    {
        var fired = new List<(int Id, long Deadline, long FiredAt)>();
        var deadlines = new Dictionary<int, long>();
        Loops.Run(async loop =>
        {
            var random = new Random(1234);
            for (int i = 0; i < 200; i++)
            {
                int id = i;
                var handle = loop.CallLater(TimeSpan.FromMilliseconds(random.Next(0, 150)) + TimeSpan.FromTicks(random.Next(0, 10_000)),
                    () => fired.Add((id, deadlines[id], loop.Time.GetTimestamp())));
                deadlines[id] = handle.Deadline;
            }
            await loop.Delay(TimeSpan.FromMilliseconds(200));
        });
        Assert.Equal(200, fired.Count);
        Assert.All(fired, f => Assert.True(f.FiredAt >= f.Deadline, $"timer {f.Id} fired {f.Deadline - f.FiredAt} ticks early"));
        // In deadline order; equal deadlines in creation order (ids were created in order).
        var expected = fired.OrderBy(f => f.Deadline).ThenBy(f => f.Id).Select(f => f.Id);
        Assert.Equal(expected, fired.Select(f => f.Id));
    }

    [Fact]
    public void Delays_armed_in_one_long_turn_never_fire_early_and_keep_their_order()
    {
        // Delays of several durations armed in one turn that goes on running: none may count from before its own call.
        var woke = new List<(int Id, TimeSpan Delay, TimeSpan Elapsed)>();
        Loops.Run(async loop =>
        {
            var delays = new[] { 30, 10, 20, 10, 30, 0 }.Select(ms => TimeSpan.FromMilliseconds(ms)).ToArray();
            var waits = new List<Task>();
            for (int i = 0; i < delays.Length; i++)
            {
                int id = i;
                var armedAt = Stopwatch.StartNew();
                var delay = loop.Delay(delays[id]);
                waits.Add(Wake(delay, id, delays[id], armedAt));
            }
            var busy = Stopwatch.StartNew();
            while (busy.ElapsedMilliseconds < 15) { } // the same turn goes on after arming
            await loop.WhenAll(waits);

            async Task Wake(ValueTask delay, int id, TimeSpan length, Stopwatch armedAt)
            {
                await delay;
                woke.Add((id, length, armedAt.Elapsed));
            }
        });
        Assert.All(woke, w => Assert.True(w.Elapsed >= w.Delay, $"delay {w.Id} of {w.Delay} woke after {w.Elapsed}"));
        Assert.Equal([5, 1, 3, 2, 0, 4], woke.Select(w => w.Id)); // by delay, then arming order
    }

    [Fact]
    public void Delays_cancelled_in_the_turn_that_armed_them_leave_the_queue_and_the_others_fire()
    {
        // More delays than share one clock reading, half of them cancelled before the turn ends (real clock).
        const int count = 40;
        var woke = new List<(int Id, TimeSpan Elapsed)>();
        int cancelled = 0;
        Loops.Run(async loop =>
        {
            var waits = new List<Task>();
            var sources = new List<CancellationTokenSource>();
            for (int i = 0; i < count; i++)
            {
                var source = new CancellationTokenSource();
                sources.Add(source);
                var armedAt = Stopwatch.StartNew();
                waits.Add(Wake(loop.Delay(TimeSpan.FromMilliseconds(count - i), source.Token), i, armedAt));
            }
            for (int i = 0; i < count; i += 2) sources[i].Cancel();
            Assert.Equal(count / 2, loop.Timers.Count);
            await loop.WhenAll(waits);
            Assert.Equal(0, loop.Timers.Count);

            async Task Wake(ValueTask delay, int id, Stopwatch armedAt)
            {
                try { await delay; }
                catch (OperationCanceledException) { cancelled++; return; }
                woke.Add((id, armedAt.Elapsed));
            }
        });
        Assert.Equal(count / 2, cancelled);
        Assert.All(woke, w => Assert.True(w.Elapsed >= TimeSpan.FromMilliseconds(count - w.Id), $"delay {w.Id} woke after {w.Elapsed}"));
        Assert.Equal(Enumerable.Range(0, count).Where(i => i % 2 == 1), woke.Select(w => w.Id).Order());
    }

    [Fact]
    public void A_delay_resumes_on_the_loop_however_it_is_awaited()
    {
        // An async method's await, AsTask and a hand-written awaiter each give the wait a different continuation.
        var log = new List<string>();
        Loops.RunVirtual(async (loop, _) =>
        {
            await loop.Delay(TimeSpan.FromSeconds(1));
            log.Add($"await {loop.IsLoopThread}");
            await loop.Delay(TimeSpan.FromSeconds(1)).AsTask();
            log.Add($"AsTask {loop.IsLoopThread}");
            var resumed = new TaskCompletionSource();
            var awaiter = loop.Delay(TimeSpan.FromSeconds(1)).GetAwaiter();
            awaiter.OnCompleted(() =>
            {
                awaiter.GetResult();
                log.Add($"OnCompleted {loop.IsLoopThread}");
                resumed.SetResult();
            });
            await resumed.Task;
        });
        Assert.Equal(["await True", "AsTask True", "OnCompleted True"], log);
    }

    [Fact]
    public void Timers_with_equal_deadlines_fire_in_creation_order()
    {
        var order = new List<int>();
        Loops.RunVirtual(async (loop, _) =>
        {
            for (int i = 0; i < 10; i++)
            {
                int n = i;
                loop.CallLater(TimeSpan.FromSeconds(1), () => order.Add(n));
            }
            await loop.Delay(TimeSpan.FromSeconds(2));
        });
        Assert.Equal(Enumerable.Range(0, 10), order);
    }

    [Fact]
    public void The_virtual_clock_jumps_so_a_30_second_timeout_takes_milliseconds()
    {
        var stopwatch = Stopwatch.StartNew();
        var clock = Loops.RunVirtual(async (loop, _) =>
        {
            await Assert.ThrowsAsync<TimeoutException>(() =>
                loop.WithTimeout(TimeSpan.FromSeconds(30), token => loop.Delay(TimeSpan.FromMinutes(5), token).AsTask()));
        });
        Assert.Equal(TimeSpan.FromSeconds(30), clock.Elapsed);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed} of real time");
    }

    [Fact]
    public void Virtual_time_is_exact_and_repeatable()
    {
        string Trace()
        {
            var log = new List<string>();
            Loops.RunVirtual(async (loop, clock) =>
            {
                async Task Worker(string name, double seconds, int times)
                {
                    for (int i = 0; i < times; i++)
                    {
                        await loop.Delay(TimeSpan.FromSeconds(seconds));
                        log.Add($"{clock.Elapsed.TotalSeconds:0.###} {name}{i}");
                    }
                }
                await loop.WhenAll(loop.Spawn(() => Worker("a", 0.3, 5)), loop.Spawn(() => Worker("b", 0.5, 3)));
            });
            return string.Join(",", log);
        }
        var first = Trace();
        Assert.Equal(first, Trace());
        // At 1.5 s both are due: b2's timer was set first (at 1.0 s, a4's at 1.2 s), so it fires first.
        Assert.Equal("0.3 a0,0.5 b0,0.6 a1,0.9 a2,1 b1,1.2 a3,1.5 b2,1.5 a4", first);
    }

    [Fact]
    public void The_virtual_clock_does_not_jump_while_a_worker_runs()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            using var gate = new ManualResetEventSlim();
            var timeout = loop.Spawn(async () => { await loop.Delay(TimeSpan.FromSeconds(10)); return "timer"; });
            var work = loop.RunOnWorker(() => { gate.Wait(); return "worker"; });
            _ = Task.Run(async () => { await Task.Delay(100); gate.Set(); });
            var first = await loop.WhenAny(timeout, work);
            Assert.Same(work, first);
            Assert.Equal(TimeSpan.Zero, clock.Elapsed);
            timeout.Cancel();
        });
    }

    [Fact]
    public void Advancing_the_clock_from_another_thread_wakes_the_loop()
    {
        var clock = new VirtualClock { AutoAdvance = false };
        Loops.Run(async loop =>
        {
            _ = Task.Run(async () =>
            {
                await Task.Delay(50);
                clock.Advance(TimeSpan.FromSeconds(5));
            });
            await loop.Delay(TimeSpan.FromSeconds(5));
            Assert.Equal(TimeSpan.FromSeconds(5), clock.Elapsed);
        }, new EventLoopOptions { TimeProvider = clock });
    }

    [Fact]
    public void TimeProvider_timers_of_the_virtual_clock_fire_as_the_loop_advances()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3), clock);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.Delay(TimeSpan.FromSeconds(100), cts.Token).AsTask());
            Assert.Equal(TimeSpan.FromSeconds(3), clock.Elapsed);
        });
    }

    [Fact]
    public void A_delay_ends_early_when_its_token_is_cancelled_from_another_thread()
    {
        Loops.Run(async loop =>
        {
            using var cts = new CancellationTokenSource();
            _ = Task.Run(async () => { await Task.Delay(30); cts.Cancel(); });
            var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.Delay(TimeSpan.FromMinutes(1), cts.Token).AsTask());
            Assert.Equal(cts.Token, e.CancellationToken);
        });
    }

    [Fact]
    public void CallLater_can_be_cancelled_before_it_runs()
    {
        var log = new List<string>();
        Loops.RunVirtual(async (loop, _) =>
        {
            var cancelled = loop.CallLater(TimeSpan.FromSeconds(1), () => log.Add("cancelled"));
            loop.CallLater(TimeSpan.FromSeconds(2), () => log.Add("kept"));
            cancelled.Cancel();
            await loop.Delay(TimeSpan.FromSeconds(3));
        });
        Assert.Equal(["kept"], log);
    }

    [Fact]
    public void Delay_zero_lets_the_other_tasks_run_first()
    {
        var log = new List<string>();
        Loops.Run(async loop =>
        {
            var other = loop.Spawn(async () => { log.Add("other"); await loop.Yield(); });
            await loop.Delay(TimeSpan.Zero);
            log.Add("after delay 0");
            await other;
        });
        Assert.Equal(["other", "after delay 0"], log);
    }

    [Fact]
    public void Many_timers_added_and_cancelled_fire_in_deadline_order()
    {
        // Cancelling half of many timers exercises removal from the middle of the heap.
        var fired = new List<long>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var handles = new List<TimerHandle>();
            var random = new Random(7);
            for (int i = 0; i < 20_000; i++)
            {
                long ms = random.Next(1, 100_000);
                handles.Add(loop.CallLater(TimeSpan.FromMilliseconds(ms), () => fired.Add(clock.Elapsed.Ticks)));
            }
            for (int i = 0; i < handles.Count; i += 2) handles[i].Cancel();
            await loop.Delay(TimeSpan.FromSeconds(101));
        });
        Assert.Equal(10_000, fired.Count);
        Assert.True(fired.SequenceEqual(fired.Order()));
    }
}
