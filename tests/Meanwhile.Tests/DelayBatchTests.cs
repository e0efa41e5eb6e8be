using System.Diagnostics;

namespace Meanwhile.Tests;

/// <summary>Plain delays share timers (<c>DelayBatch</c>): each must still behave as a delay of its own.</summary>
public class DelayBatchTests
{
    [Fact]
    public void Plain_delays_armed_in_one_turn_share_timers_wait_their_full_delay_and_wake_in_order()
    {
        const int count = 40; // more than one batch (16) holds
        var woke = new List<(int Id, TimeSpan Elapsed)>();
        int timersWhilePending = -1;
        Loops.Run(async loop =>
        {
            var waits = new List<Task>();
            for (int i = 0; i < count; i++) waits.Add(Wake(loop.Delay(TimeSpan.FromMilliseconds(20)), i, Stopwatch.StartNew()));
            await loop.Yield(); // the turn's clock reading is taken: every batch is in the timer queue
            timersWhilePending = loop.Timers.Count;
            await loop.WhenAll(waits);
            Assert.Equal(0, loop.Timers.Count);

            async Task Wake(ValueTask delay, int id, Stopwatch armedAt)
            {
                await delay;
                woke.Add((id, armedAt.Elapsed));
            }
        });
        Assert.Equal(3, timersWhilePending); // 16 + 16 + 8
        Assert.All(woke, w => Assert.True(w.Elapsed >= TimeSpan.FromMilliseconds(20), $"delay {w.Id} woke after {w.Elapsed}"));
        Assert.Equal(Enumerable.Range(0, count), woke.Select(w => w.Id));
    }

    [Fact]
    public void Delays_armed_by_tasks_in_successive_turns_join_a_batch_never_end_early_and_keep_arming_order_with_other_timers()
    {
        // Each task arms its delay in its own turn; a callback timer of the same length is armed halfway.
        const int tasks = 50;
        var delay = TimeSpan.FromMilliseconds(30);
        var woke = new List<(string Who, TimeSpan Elapsed)>();
        int timersWhilePending = -1;
        Loops.Run(async loop =>
        {
            var spawned = new List<LoopTask>();
            for (int i = 0; i < tasks; i++)
            {
                int id = i;
                spawned.Add(loop.Spawn(async () =>
                {
                    if (id == tasks / 2)
                    {
                        var callbackArmed = Stopwatch.StartNew();
                        loop.CallLater(delay, () => woke.Add(("callback", callbackArmed.Elapsed)));
                    }
                    var armedAt = Stopwatch.StartNew();
                    await loop.Delay(delay);
                    woke.Add(($"task {id}", armedAt.Elapsed));
                }));
            }
            await loop.Yield(); // every task has run its first turn
            timersWhilePending = loop.Timers.Count;
            foreach (var task in spawned) await task;
            await loop.Delay(delay); // the callback too
        });
        // Far fewer timers than delays, however the turns were spread (a batch takes delays due within 1 ms of its first).
        Assert.InRange(timersWhilePending, 2, tasks / 2);
        Assert.All(woke, w => Assert.True(w.Elapsed >= delay, $"{w.Who} woke after {w.Elapsed}"));
        var expected = Enumerable.Range(0, tasks / 2).Select(i => $"task {i}")
            .Append("callback")
            .Concat(Enumerable.Range(tasks / 2, tasks / 2).Select(i => $"task {i}"));
        Assert.Equal(expected, woke.Select(w => w.Who));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Mixed_timers_over_many_turns_never_fire_early_and_an_earlier_timer_no_longer_than_a_later_one_fires_first(int seed)
    {
        // Plain delays (batched), delays with a token (some cancelled) and callbacks, of 0, 5, 10 or 15 ms, armed over
        // 40 turns. Whatever the turns' timing, a timer armed earlier with a delay no longer than a later one's fires
        // first: the same length shares a list in arming order, and 5 ms apart outweighs a batch's 1 ms of lateness.
        var random = new Random(seed);
        var armed = new List<(int Id, long ArmedAt, TimeSpan Delay)>();
        var fired = new List<(int Id, long FiredAt)>();
        var cancelledIds = new HashSet<int>();
        Loops.Run(async loop =>
        {
            var waits = new List<Task>();
            var sources = new List<(int Id, CancellationTokenSource Source)>();
            for (int turn = 0; turn < 40; turn++)
            {
                for (int i = random.Next(0, 12); i > 0; i--)
                {
                    int id = armed.Count;
                    var delay = TimeSpan.FromMilliseconds(5 * random.Next(0, 4));
                    armed.Add((id, Stopwatch.GetTimestamp(), delay));
                    switch (random.Next(0, 4))
                    {
                        case 0:
                            var source = new CancellationTokenSource();
                            sources.Add((id, source));
                            waits.Add(Wake(loop.Delay(delay, source.Token), id));
                            break;
                        case 1:
                            loop.CallLater(delay, () => fired.Add((id, Stopwatch.GetTimestamp())));
                            break;
                        default:
                            waits.Add(Wake(loop.Delay(delay), id));
                            break;
                    }
                }
                foreach (var (id, source) in sources.Where(_ => random.Next(0, 10) == 0).ToList())
                {
                    if (cancelledIds.Add(id)) source.Cancel();
                }
                await loop.Yield();
            }
            await loop.WhenAll(waits);
            await loop.Delay(TimeSpan.FromMilliseconds(20)); // the callbacks

            async Task Wake(ValueTask delay, int id)
            {
                try { await delay; }
                catch (OperationCanceledException) { return; }
                fired.Add((id, Stopwatch.GetTimestamp()));
            }
        });
        var firedIds = fired.Select(f => f.Id).ToList();
        Assert.Equal(armed.Select(a => a.Id).Where(id => !cancelledIds.Contains(id)).Order(), firedIds.Where(id => !cancelledIds.Contains(id)).Order());
        var position = firedIds.Select((id, index) => (id, index)).ToDictionary(p => p.id, p => p.index);
        foreach (var (id, firedAt) in fired)
        {
            var (_, armedAt, delay) = armed[id];
            Assert.True(Stopwatch.GetElapsedTime(armedAt, firedAt) >= delay, $"timer {id} of {delay} fired after {Stopwatch.GetElapsedTime(armedAt, firedAt)}");
        }
        foreach (var a in armed.Where(a => position.ContainsKey(a.Id)))
        {
            foreach (var b in armed.Where(b => b.Id > a.Id && b.Delay >= a.Delay && position.ContainsKey(b.Id)))
                Assert.True(position[a.Id] < position[b.Id], $"timer {a.Id} ({a.Delay}) fired after timer {b.Id} ({b.Delay}), armed later");
        }
    }

    [Fact]
    public void Cancelling_a_task_ends_its_batched_delay_only_and_a_batch_with_no_delay_left_leaves_the_queue()
    {
        var outcomes = new string?[4];
        Loops.RunVirtual(async (loop, clock) =>
        {
            var sleepers = Enumerable.Range(0, 3).Select(i => loop.Spawn(async () =>
            {
                try
                {
                    await loop.Delay(TimeSpan.FromSeconds(10));
                    outcomes[i] = $"woke at {clock.Elapsed}";
                }
                catch (OperationCanceledException) { outcomes[i] = "cancelled"; throw; }
            })).ToList();
            await loop.Yield();
            Assert.Equal(1, loop.Timers.Count); // same deadline, nothing armed between: one timer
            Assert.Equal(WaitKind.Timer, sleepers[1].WaitingOn.Kind);
            sleepers[1].Cancel();
            await Assert.ThrowsAsync<OperationCanceledException>(async () => await sleepers[1]);
            Assert.Equal(1, loop.Timers.Count); // the other two still wait on it
            await sleepers[0];
            await sleepers[2];

            // Every delay of a batch cancelled: the timer goes, and nothing fires 10 s later.
            var lone = Enumerable.Range(0, 2).Select(_ => loop.Spawn(() => loop.Delay(TimeSpan.FromSeconds(10)).AsTask())).ToList();
            await loop.Yield();
            Assert.Equal(1, loop.Timers.Count);
            foreach (var task in lone) task.Cancel();
            foreach (var task in lone) await Assert.ThrowsAsync<OperationCanceledException>(async () => await task);
            Assert.Equal(0, loop.Timers.Count);
            outcomes[3] = "done";
        });
        Assert.Equal(["woke at 00:00:10", "cancelled", "woke at 00:00:10", "done"], outcomes.Select(o => o ?? "(none)"));
    }

    [Fact]
    public void A_batched_delay_can_be_awaited_once_and_flows_the_execution_context_to_a_hand_written_continuation()
    {
        var local = new AsyncLocal<string>();
        string? seen = null;
        Exception? second = null;
        Loops.RunVirtual(async (loop, _) =>
        {
            var delay = loop.Delay(TimeSpan.FromSeconds(1));
            var other = loop.Delay(TimeSpan.FromSeconds(1)); // same batch
            await delay;
            second = await Record.ExceptionAsync(async () => await delay);

            local.Value = "flowed";
            var resumed = new TaskCompletionSource();
            var awaiter = other.GetAwaiter();
            awaiter.OnCompleted(() => // the safe OnCompleted flows the ExecutionContext
            {
                awaiter.GetResult();
                seen = local.Value;
                resumed.SetResult();
            });
            local.Value = "changed after the await was registered";
            await resumed.Task;
        });
        Assert.IsType<InvalidOperationException>(second);
        Assert.Equal("flowed", seen);
    }
}
