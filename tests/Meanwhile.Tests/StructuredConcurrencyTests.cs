namespace Meanwhile.Tests;

public class StructuredConcurrencyTests
{
    [Fact]
    public void A_group_waits_for_all_its_tasks()
    {
        var clock = Loops.RunVirtual(async (loop, clock) =>
        {
            var done = new List<int>();
            await TaskGroup.RunAsync(async group =>
            {
                for (int i = 1; i <= 3; i++)
                {
                    int n = i;
                    _ = group.Spawn(async () => { await loop.Delay(TimeSpan.FromSeconds(n)); done.Add(n); });
                }
                await Task.CompletedTask;
            });
            Assert.Equal([1, 2, 3], done);
        });
        Assert.Equal(TimeSpan.FromSeconds(3), clock.Elapsed);
    }

    [Fact]
    public void The_first_failure_cancels_the_siblings_and_failures_are_aggregated()
    {
        var cancelled = new List<string>();
        var clock = Loops.RunVirtual(async (loop, clock) =>
        {
            var error = await Assert.ThrowsAsync<AggregateException>(() => TaskGroup.RunAsync(async group =>
            {
                _ = group.Spawn(async () => { await loop.Delay(TimeSpan.FromSeconds(1)); throw new InvalidOperationException("first"); });
                _ = group.Spawn(async () =>
                {
                    try { await loop.Delay(TimeSpan.FromSeconds(60)); }
                    catch (OperationCanceledException) { cancelled.Add("sibling"); throw; }
                });
                _ = group.Spawn(async () =>
                {
                    try { await loop.Delay(TimeSpan.FromSeconds(60)); }
                    catch (OperationCanceledException) { throw new FormatException("second, while cancelling"); }
                });
                try { await loop.Delay(TimeSpan.FromSeconds(60)); }
                catch (OperationCanceledException) { cancelled.Add("body"); throw; }
            }));
            Assert.Equal(2, error.InnerExceptions.Count);
            Assert.Contains(error.InnerExceptions, e => e is InvalidOperationException { Message: "first" });
            Assert.Contains(error.InnerExceptions, e => e is FormatException);
        });
        Assert.Equal(TimeSpan.FromSeconds(1), clock.Elapsed);
        Assert.Equal(["sibling", "body"], cancelled.Order().Reverse());
    }

    [Fact]
    public void A_group_returns_the_body_value_and_refuses_tasks_after_it_finished()
    {
        Loops.Run(async loop =>
        {
            TaskGroup? escaped = null;
            int value = await TaskGroup.RunAsync(async group =>
            {
                escaped = group;
                var child = group.Spawn(async () => { await loop.Yield(); return 20; });
                return await child + 1;
            });
            Assert.Equal(21, value);
            Assert.Throws<InvalidOperationException>(() => { escaped!.Spawn(() => Task.CompletedTask); });
        });
    }

    [Fact]
    public void Cancelling_a_group_from_outside_cancels_its_tasks()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            using var cts = new CancellationTokenSource();
            loop.CallLater(TimeSpan.FromSeconds(2), cts.Cancel);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TaskGroup.RunAsync(async group =>
            {
                _ = group.Spawn(() => loop.Delay(TimeSpan.FromHours(1)).AsTask());
                await loop.Delay(TimeSpan.FromHours(1));
            }, cts.Token));
            Assert.Equal(TimeSpan.FromSeconds(2), clock.Elapsed);
        });
    }

    [Fact]
    public void Wait_returns_done_and_pending_like_asyncio_wait()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            LoopTask<int> After(int seconds, bool fail = false) => loop.Spawn(async () =>
            {
                await loop.Delay(TimeSpan.FromSeconds(seconds));
                if (fail) throw new InvalidOperationException($"failed at {seconds}");
                return seconds;
            });

            Task a = After(1), b = After(2, fail: true), c = After(3);
            var first = await loop.Wait([a, b, c], WaitMode.FirstCompleted);
            Assert.Equal([a], first.Done);
            Assert.Equal([b, c], first.Pending);
            Assert.Equal(TimeSpan.FromSeconds(1), clock.Elapsed);

            var firstException = await loop.Wait([a, b, c], WaitMode.FirstException);
            Assert.Equal([a, b], firstException.Done);
            Assert.Equal([c], firstException.Pending);
            Assert.Equal(TimeSpan.FromSeconds(2), clock.Elapsed);

            var timedOut = await loop.Wait([c], WaitMode.AllCompleted, TimeSpan.FromMilliseconds(500));
            Assert.Empty(timedOut.Done);
            Assert.Equal(TimeSpan.FromSeconds(2.5), clock.Elapsed);

            var all = await loop.Wait([a, b, c]);
            Assert.Equal(3, all.Done.Count);
            Assert.Empty(all.Pending);
            Assert.Equal(TimeSpan.FromSeconds(3), clock.Elapsed);
        });
    }

    [Fact]
    public void WhenAll_and_WhenAny_work_with_loop_tasks()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var values = await loop.WhenAll(new[] { 3, 1, 2 }.Select(s => loop.Spawn(async () =>
            {
                await loop.Delay(TimeSpan.FromSeconds(s));
                return s * 10;
            }).AsTask()));
            Assert.Equal([30, 10, 20], values);
            Assert.Equal(TimeSpan.FromSeconds(3), clock.Elapsed);

            var slow = loop.Spawn(() => loop.Delay(TimeSpan.FromSeconds(5)).AsTask());
            var fast = loop.Spawn(() => loop.Delay(TimeSpan.FromSeconds(1)).AsTask());
            var winner = await loop.WhenAny(slow, fast);
            Assert.Same(fast.AsTask(), winner);
            slow.Cancel();

            var failing = loop.Spawn(async () => { await loop.Yield(); throw new IOException("x"); });
            await Assert.ThrowsAsync<IOException>(() => loop.WhenAll(failing, loop.Spawn(() => loop.Delay(TimeSpan.FromSeconds(1)).AsTask())));
        });
    }

    [Fact]
    public void WithTimeout_returns_the_value_in_time_and_throws_TimeoutException_late()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            int value = await loop.WithTimeout(TimeSpan.FromSeconds(2), async token =>
            {
                await loop.Delay(TimeSpan.FromSeconds(1), token);
                return 5;
            });
            Assert.Equal(5, value);

            bool sawCancellation = false;
            var error = await Assert.ThrowsAsync<TimeoutException>(() => loop.WithTimeout(TimeSpan.FromSeconds(2), async _ =>
            {
                try { await loop.Delay(TimeSpan.FromSeconds(10)); } // no token passed: the scope still cancels it
                catch (OperationCanceledException) { sawCancellation = true; throw; }
            }));
            Assert.True(sawCancellation);
            Assert.Equal(TimeSpan.FromSeconds(3), clock.Elapsed);

            // An exception from the body is not turned into a timeout.
            await Assert.ThrowsAsync<FormatException>(() => loop.WithTimeout(TimeSpan.FromSeconds(2), _ => throw new FormatException()));
        });
    }

    [Fact]
    public void Awaiting_a_cancelled_wait_without_a_token_is_interrupted_by_task_cancellation()
    {
        Loops.RunVirtual(async (loop, clock) =>
        {
            var task = loop.Spawn(async () =>
            {
                await loop.Wait([Task.Delay(Timeout.Infinite)], WaitMode.AllCompleted); // a wait on a task that never ends
            });
            await loop.Delay(TimeSpan.FromSeconds(1));
            task.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await task);
        });
    }
}
