namespace Meanwhile.Tests;

/// <summary>
/// <see cref="DeadlineQueue"/> on the virtual clock: entries expire exactly one timeout after their last start, in
/// order, never early; restarting and stopping are free of timers; a wave is spread over loop turns.
/// </summary>
public sealed class DeadlineQueueTests
{
    private sealed class Probe(EventLoop loop, string name, List<(string Name, TimeSpan At)> log, Action<Probe>? onExpired = null) : DeadlineQueue.Entry
    {
        public string Name => name;

        protected override void OnExpired()
        {
            log.Add((name, TimeSpan.FromTicks(loop.Time.GetTimestamp())));
            onExpired?.Invoke(this);
        }
    }

    [Fact]
    public void An_entry_expires_exactly_one_timeout_after_its_last_start()
    {
        var log = new List<(string Name, TimeSpan At)>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new DeadlineQueue(loop, TimeSpan.FromSeconds(5));
            var a = new Probe(loop, "a", log);
            queue.Start(a);
            Assert.True(a.IsRunning);
            await loop.Delay(TimeSpan.FromSeconds(3));
            queue.Start(a); // reset: now due at 8 s
            await loop.Delay(TimeSpan.FromSeconds(4.9));
            Assert.Empty(log);
            await loop.Delay(TimeSpan.FromSeconds(1));
            Assert.False(a.IsRunning);
        });
        Assert.Equal([("a", TimeSpan.FromSeconds(8))], log);
    }

    [Fact]
    public void Entries_expire_in_start_order_and_stopped_ones_never()
    {
        var log = new List<(string Name, TimeSpan At)>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new DeadlineQueue(loop, TimeSpan.FromMilliseconds(100));
            var entries = Enumerable.Range(0, 5).Select(i => new Probe(loop, $"e{i}", log)).ToArray();
            foreach (var entry in entries)
            {
                queue.Start(entry);
                await loop.Delay(TimeSpan.FromMilliseconds(10));
            }
            entries[0].Stop(); // the one the timer is armed for
            entries[3].Stop();
            entries[3].Stop(); // twice is harmless
            await loop.Delay(TimeSpan.FromSeconds(1));
            Assert.True(queue.IsEmpty);
        });
        Assert.Equal(["e1", "e2", "e4"], log.Select(l => l.Name));
        Assert.Equal([110, 120, 140], log.Select(l => (int)l.At.TotalMilliseconds));
    }

    [Fact]
    public void A_carried_over_deadline_takes_its_place_by_due_time()
    {
        var log = new List<(string Name, TimeSpan At)>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new DeadlineQueue(loop, TimeSpan.FromSeconds(1));
            var early = new Probe(loop, "early", log);
            var late = new Probe(loop, "late", log);
            queue.Start(late);
            queue.Start(early, loop.Time.GetTimestamp() + TimeSpan.FromMilliseconds(300).Ticks);
            await loop.Delay(TimeSpan.FromSeconds(2));
        });
        Assert.Equal([("early", TimeSpan.FromMilliseconds(300)), ("late", TimeSpan.FromSeconds(1))], log);
    }

    [Fact]
    public void Starting_in_another_queue_moves_the_entry()
    {
        var log = new List<(string Name, TimeSpan At)>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var shortQueue = new DeadlineQueue(loop, TimeSpan.FromSeconds(1));
            var longQueue = new DeadlineQueue(loop, TimeSpan.FromSeconds(10));
            var entry = new Probe(loop, "moved", log);
            shortQueue.Start(entry);
            longQueue.Start(entry);
            Assert.True(shortQueue.IsEmpty);
            await loop.Delay(TimeSpan.FromSeconds(20));
        });
        Assert.Equal([("moved", TimeSpan.FromSeconds(10))], log);
    }

    [Fact]
    public void An_entry_may_start_itself_again_from_its_expiry()
    {
        var log = new List<(string Name, TimeSpan At)>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new DeadlineQueue(loop, TimeSpan.FromSeconds(1));
            int rounds = 0;
            var ticking = new Probe(loop, "tick", log, self =>
            {
                if (++rounds < 3) queue.Start(self);
            });
            queue.Start(ticking);
            await loop.Delay(TimeSpan.FromSeconds(10));
        });
        Assert.Equal([1, 2, 3], log.Select(l => (int)l.At.TotalSeconds));
    }

    [Fact]
    public void A_wave_of_expiries_is_spread_over_loop_turns()
    {
        var turnsOfExpiry = new List<int>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            int turn = 0;
            var queue = new DeadlineQueue(loop, TimeSpan.FromSeconds(1));
            var log = new List<(string, TimeSpan)>();
            var entries = Enumerable.Range(0, 200).Select(i => new Probe(loop, $"e{i}", log, _ => turnsOfExpiry.Add(turn))).ToArray();
            foreach (var entry in entries) queue.Start(entry);
            // Wakes in the turn the queue's timer fires (armed after it, same deadline), then counts turns.
            await loop.Delay(TimeSpan.FromSeconds(1));
            while (turnsOfExpiry.Count < 200)
            {
                turn++;
                await loop.Yield();
            }
        });
        Assert.Equal(200, turnsOfExpiry.Count);
        // 64 per turn, in one turn after the other (the counter runs before the batch of the same turn from the
        // second turn on: the timer's run is queued behind it).
        Assert.Equal([64, 64, 64, 8], turnsOfExpiry.GroupBy(t => t).Select(g => g.Count()));
        Assert.Equal([0, 2, 3, 4], turnsOfExpiry.Distinct());
    }

    [Fact]
    public void Clear_stops_every_entry_and_the_timer()
    {
        var log = new List<(string Name, TimeSpan At)>();
        var clock = Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new DeadlineQueue(loop, TimeSpan.FromSeconds(1));
            var a = new Probe(loop, "a", log);
            queue.Start(a);
            queue.Clear();
            Assert.False(a.IsRunning);
            await loop.Delay(TimeSpan.FromSeconds(5));
        });
        Assert.Empty(log);
    }

    [Fact]
    public void A_queue_is_used_from_its_loop_thread_only()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new DeadlineQueue(loop, TimeSpan.FromSeconds(1));
            var entry = new Probe(loop, "x", []);
            await Task.Run(() => Assert.Throws<InvalidOperationException>(() => queue.Start(entry))).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Throws<ArgumentOutOfRangeException>(() => new DeadlineQueue(loop, TimeSpan.Zero));
        });
    }
}
