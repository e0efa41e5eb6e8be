namespace Meanwhile.Tests;

public class QueueTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void Items_come_out_in_the_order_each_kind_of_queue_promises()
    {
        Loops.Run(async loop =>
        {
            var fifo = new LoopQueue<int>();
            var lifo = new LoopLifoQueue<int>();
            var priority = new LoopPriorityQueue<(int Priority, string Name)>();
            foreach (int n in new[] { 3, 1, 2 })
            {
                await fifo.PutAsync(n);
                await lifo.PutAsync(n);
            }
            foreach (var item in new[] { (2, "b"), (1, "first"), (2, "c"), (1, "second"), (0, "top") }) await priority.PutAsync(item);

            var fromFifo = new List<int>();
            var fromLifo = new List<int>();
            for (int i = 0; i < 3; i++)
            {
                fromFifo.Add(await fifo.GetAsync());
                fromLifo.Add(await lifo.GetAsync());
            }
            Assert.Equal([3, 1, 2], fromFifo);
            Assert.Equal([2, 1, 3], fromLifo);
            var names = new List<string>();
            while (priority.TryGet(out var item)) names.Add(item.Name);
            Assert.Equal(["top", "first", "second", "b", "c"], names); // equal priorities keep their order
        });
    }

    [Fact]
    public void Getters_are_served_first_come_first_served_and_items_go_straight_to_them()
    {
        var got = new List<string>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<int>();
            var getters = Enumerable.Range(0, 3).Select(i => loop.Spawn(async () =>
            {
                await loop.Delay(TimeSpan.FromMilliseconds(i)); // arrive in order 0, 1, 2
                got.Add($"getter {i}: {await queue.GetAsync()}");
            })).ToList();
            await loop.Delay(Second);
            for (int n = 10; n < 13; n++) Assert.True(queue.TryPut(n));
            Assert.Equal(0, queue.Count); // handed over, not stored
            foreach (var getter in getters) await getter;
        });
        Assert.Equal(["getter 0: 10", "getter 1: 11", "getter 2: 12"], got);
    }

    [Fact]
    public void A_full_queue_makes_putters_wait_and_lets_them_in_in_arrival_order()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<int>(capacity: 2);
            Assert.True(queue.TryPut(1));
            Assert.True(queue.TryPut(2));
            Assert.True(queue.IsFull);
            Assert.False(queue.TryPut(99));
            var putters = Enumerable.Range(3, 3).Select(n => loop.Spawn(async () =>
            {
                await loop.Delay(TimeSpan.FromMilliseconds(n));
                await queue.PutAsync(n);
            })).ToList();
            await loop.Delay(Second);
            Assert.All(putters, p => Assert.False(p.IsCompleted));
            var got = new List<int>();
            for (int i = 0; i < 5; i++) got.Add(await queue.GetAsync());
            Assert.Equal([1, 2, 3, 4, 5], got);
            foreach (var putter in putters) await putter;
            Assert.Equal(0, queue.Count);
        });
    }

    [Fact]
    public void A_wait_ends_with_its_task_or_scope_without_a_token_and_shows_in_introspection()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<string>(capacity: 1, name: "urls");
            var getter = loop.Spawn(() => queue.GetAsync().AsTask(), "reader");
            await loop.Yield();
            var info = loop.GetTasks().Single(t => t.Name == "reader");
            Assert.Equal(new WaitReason(WaitKind.QueueGet, 0, "urls"), info.WaitingOn);
            Assert.Equal("#" + getter.Id + " reader Running, waiting on queue 'urls' (get)", info.ToString());

            getter.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await getter);

            await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(Second, _ => queue.GetAsync().AsTask()));
            Assert.Equal(Second, clock.Elapsed);

            Assert.True(queue.TryPut("full"));
            var putter = loop.Spawn(() => queue.PutAsync("waits").AsTask(), "writer");
            await loop.Yield();
            Assert.Equal(new WaitReason(WaitKind.QueuePut, 0, "urls"), loop.GetTasks().Single(t => t.Name == "writer").WaitingOn);
            await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(Second, _ => queue.PutAsync("no room").AsTask()));
            Assert.Equal("full", await queue.GetAsync());
            await putter;
            Assert.Equal("waits", await queue.GetAsync()); // the cancelled putter's item was never put
            Assert.True(queue.IsEmpty);
        });
    }

    [Fact]
    public void A_getter_cancelled_after_an_item_was_handed_to_it_passes_the_item_to_the_next_getter()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<int>();
            var first = loop.Spawn(() => queue.GetAsync().AsTask(), "first");
            var second = loop.Spawn(() => queue.GetAsync().AsTask(), "second");
            await loop.Yield();
            Assert.True(queue.TryPut(7)); // handed to "first", which has not resumed yet
            first.Cancel();               // ... and is cancelled before it does
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first);
            Assert.Equal(7, await second);
        });
    }

    [Fact]
    public void A_getter_cancelled_after_an_item_was_handed_to_it_puts_the_item_back_at_the_front()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<int>(capacity: 1);
            var getter = loop.Spawn(() => queue.GetAsync().AsTask());
            await loop.Yield();
            Assert.True(queue.TryPut(1)); // handed over
            Assert.True(queue.TryPut(2)); // stored: the queue looks empty meanwhile
            getter.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await getter);
            Assert.Equal(2, queue.Count); // one over capacity: nothing was dropped to make room
            Assert.Equal(1, await queue.GetAsync());
            Assert.Equal(2, await queue.GetAsync());
        });
    }

    [Fact]
    public void A_token_cancels_only_a_wait_still_pending()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<int>();
            using var cts = new CancellationTokenSource();
            var pending = queue.GetAsync(cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);

            using var late = new CancellationTokenSource();
            var granted = queue.GetAsync(late.Token);
            Assert.True(queue.TryPut(5));
            late.Cancel(); // the item was handed over already: the grant stands
            Assert.Equal(5, await granted);
        });
    }

    [Fact]
    public void Shutdown_refuses_puts_lets_getters_drain_then_throws_and_ends_await_foreach()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<int>(capacity: 2, name: "jobs");
            await queue.PutAsync(1);
            await queue.PutAsync(2);
            var blockedPutter = loop.Spawn(() => queue.PutAsync(3).AsTask());
            await loop.Yield();
            queue.Shutdown();
            var refused = await Assert.ThrowsAsync<QueueShutDownException>(async () => await blockedPutter);
            Assert.Contains("queue 'jobs'", refused.Message);
            Assert.Throws<QueueShutDownException>(() => queue.TryPut(4));
            await Assert.ThrowsAsync<QueueShutDownException>(async () => await queue.PutAsync(4));

            var drained = new List<int>();
            await foreach (int item in queue) drained.Add(item);
            Assert.Equal([1, 2], drained);
            await Assert.ThrowsAsync<QueueShutDownException>(async () => await queue.GetAsync());
            Assert.False(queue.TryGet(out _));
        });
    }

    [Fact]
    public void Shutdown_wakes_waiting_getters_and_ends_a_waiting_await_foreach()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<string>();
            var getter = loop.Spawn(() => queue.GetAsync().AsTask());
            var reader = loop.Spawn(async () =>
            {
                var seen = new List<string>();
                await foreach (var item in queue) seen.Add(item);
                return seen;
            });
            await loop.Delay(Second);
            queue.TryPut("a"); // to the getter, which came first
            queue.TryPut("b"); // to the reader
            await loop.Delay(Second);
            queue.Shutdown();
            Assert.Equal("a", await getter);
            Assert.Equal(["b"], await reader);
        });
    }

    [Fact]
    public void Shutting_down_immediately_returns_what_was_in_the_queue_and_releases_join()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<int>();
            for (int i = 0; i < 3; i++) queue.TryPut(i);
            Assert.True(queue.TryGet(out int taken));
            var joiner = loop.Spawn(() => queue.JoinAsync().AsTask());
            await loop.Yield();
            Assert.False(joiner.IsCompleted);
            Assert.Equal([1, 2], queue.ShutdownImmediately());
            Assert.Equal(1, queue.UnfinishedCount); // the item taken is still being processed
            queue.TaskDone();
            await joiner;
            Assert.Throws<InvalidOperationException>(queue.TaskDone);
        });
    }

    [Fact]
    public void Join_waits_until_every_item_is_marked_done()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<int>(name: "work");
            var worker = loop.Spawn(async () =>
            {
                await foreach (int item in queue)
                {
                    await loop.Delay(TimeSpan.FromSeconds(item));
                    queue.TaskDone();
                }
            });
            for (int i = 1; i <= 3; i++) await queue.PutAsync(i);
            var joining = loop.Spawn(() => queue.JoinAsync().AsTask(), "joiner");
            await loop.Yield();
            Assert.Equal(new WaitReason(WaitKind.QueueJoin, 0, "work"), loop.GetTasks().Single(t => t.Name == "joiner").WaitingOn);
            await joining;
            Assert.Equal(TimeSpan.FromSeconds(6), clock.Elapsed);
            queue.Shutdown();
            await worker;
        });
    }

    [Fact]
    public void Batches_go_in_with_TryPutMany_and_come_out_with_GetManyAsync()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var queue = new LoopQueue<int>(capacity: 4);
            Assert.Equal(4, queue.TryPutMany([1, 2, 3, 4, 5, 6]));
            var putter = loop.Spawn(() => queue.PutAsync(5).AsTask());
            await loop.Yield();
            var buffer = new int[8];
            Assert.Equal(5, await queue.GetManyAsync(buffer)); // the waiting putter's item comes in as room appears
            Assert.Equal([1, 2, 3, 4, 5], buffer[..5]);
            await putter;

            var reader = loop.Spawn(async () => await queue.GetManyAsync(buffer));
            await loop.Delay(Second);
            Assert.False(reader.IsCompleted);
            Assert.Equal(2, queue.TryPutMany([9, 10]));
            Assert.Equal(2, await reader);
            Assert.Equal([9, 10], buffer[..2]);
            Assert.Throws<ArgumentException>(() => { _ = queue.GetManyAsync(Memory<int>.Empty); });
        });
    }

    [Fact]
    public void Other_threads_put_through_the_thread_safe_producer_and_wait_while_the_queue_is_full()
    {
        const int PerThread = 2_000;
        Loops.Run(async loop =>
        {
            var queue = new LoopQueue<(int Thread, int N)>(capacity: 8);
            var producer = queue.ThreadSafeProducer;
            int maxSeen = 0;
            var threads = Enumerable.Range(0, 3).Select(t => Task.Run(async () =>
            {
                for (int n = 0; n < PerThread; n++)
                {
                    if (n % 2 == 0) await producer.PutAsync((t, n));
                    else producer.Put((t, n));
                }
            })).ToArray();
            var next = new int[3];
            for (int i = 0; i < 3 * PerThread; i++)
            {
                var (thread, n) = await queue.GetAsync();
                Assert.Equal(next[thread]++, n); // each thread's puts keep their order
                maxSeen = Math.Max(maxSeen, queue.Count);
                if (i % 100 == 0) await loop.Delay(TimeSpan.FromMilliseconds(1)); // a slow consumer: producers must wait
            }
            await loop.WhenAll(threads);
            Assert.True(maxSeen <= 8, $"the queue held {maxSeen} items");
            Assert.Throws<InvalidOperationException>(() => producer.Put((0, 0)));

            // One thread's shutdown and puts reach the loop in the order it made them: the put after the shutdown is refused.
            await Assert.ThrowsAsync<QueueShutDownException>(() => Task.Run(async () =>
            {
                producer.Shutdown();
                await producer.PutAsync((0, 0));
            }));
            Assert.True(queue.IsShutDown);
        });
    }

    [Fact]
    public void A_put_from_another_thread_completes_only_once_the_full_queue_took_the_item()
    {
        Loops.Run(async loop =>
        {
            var queue = new LoopQueue<string>(capacity: 1);
            Assert.True(queue.TryPut("first"));
            var producer = queue.ThreadSafeProducer;
            var started = new TaskCompletionSource<Task>();
            _ = Task.Run(() => started.SetResult(producer.PutAsync("second").AsTask())); // posts the put, then the signal
            var put = await started.Task; // its continuation comes after the put reached the loop
            Assert.False(put.IsCompleted); // the queue is full: the producer waits
            Assert.Equal("first", await queue.GetAsync());
            await loop.WhenAll(put);
            Assert.Equal("second", await queue.GetAsync());
        });
    }

    [Fact]
    public void A_queue_refuses_calls_from_another_thread()
    {
        Loops.Run(async loop =>
        {
            var queue = new LoopQueue<int>();
            queue.TryPut(1);
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Task.Run(() => queue.TryPut(2)));
            Assert.Contains("Post", error.Message);
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoopQueue<int>(capacity: 0));
    }
}
