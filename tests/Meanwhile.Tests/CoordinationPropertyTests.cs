using CsCheck;

namespace Meanwhile.Tests;

/// <summary>
/// Random interleavings on the virtual clock: puts, gets and lock acquisitions at random milliseconds, some under
/// timeouts, some cancelled at random moments. Times are whole milliseconds in a short window, so operations, timeouts
/// and cancellations keep landing on the same instant, where a grant and a cancellation meet.
/// </summary>
public class CoordinationPropertyTests
{
    /// <summary>
    /// One operation: when it starts (a millisecond, then a number of loop turns), an optional timeout around it, an
    /// optional cancellation of its task (a millisecond from the start and a number of turns; -1: none).
    /// </summary>
    public sealed record Step(int At, int Turns, int Timeout, int CancelAt, int CancelTurns, bool Batch);

    public sealed record QueueScenario(int Kind, int Capacity, List<Step> Puts, List<Step> Gets)
    {
        public override string ToString() => $"kind {Kind}, capacity {Capacity}, puts [{string.Join(", ", Puts)}], gets [{string.Join(", ", Gets)}]";
    }

    public sealed record PermitScenario(int Permits, List<(Step Step, int Hold)> Holders)
    {
        public override string ToString() => $"{Permits} permits, holders [{string.Join(", ", Holders)}]";
    }

    private static readonly Gen<Step> StepGen =
        Gen.Select(Gen.Int[0, 12], Gen.Int[0, 3], Gen.Int[-1, 4], Gen.Int[-1, 14], Gen.Int[0, 4], Gen.Bool)
            .Select((at, turns, timeout, cancel, cancelTurns, batch) => new Step(at, turns, timeout, cancel, cancelTurns, batch));

    private static readonly Gen<QueueScenario> QueueGen =
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 3], StepGen.List[1, 24], StepGen.List[1, 24])
            .Select((kind, capacity, puts, gets) => new QueueScenario(kind, capacity, puts, gets));

    private static readonly Gen<PermitScenario> PermitGen =
        Gen.Select(Gen.Int[1, 3], Gen.Select(StepGen, Gen.Int[0, 3]).List[1, 20])
            .Select((permits, holders) => new PermitScenario(permits, holders));

    private static TimeSpan Ms(int n) => TimeSpan.FromMilliseconds(n);

    [Fact]
    public void No_item_is_lost_or_duplicated_whatever_the_cancellations_and_timeouts()
    {
        QueueGen.Sample(RunQueueScenario, iter: 400);
    }

    [Fact]
    public void No_permit_is_lost_or_doubled_and_never_more_tasks_hold_one_than_there_are()
    {
        PermitGen.Sample(RunPermitScenario, iter: 400);
    }

    private static void RunQueueScenario(QueueScenario scenario)
    {
        var put = new List<int>();
        var got = new List<int>();
        var left = new List<int>();
        var errors = new List<LoopError>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            int? capacity = scenario.Capacity == 0 ? null : scenario.Capacity;
            LoopQueue<int> queue = scenario.Kind switch
            {
                0 => new LoopQueue<int>(capacity),
                1 => new LoopLifoQueue<int>(capacity),
                _ => new LoopPriorityQueue<int>(Comparer<int>.Create((a, b) => (a % 3).CompareTo(b % 3)), capacity),
            };
            var runs = new List<LoopTask>();
            for (int i = 0; i < scenario.Puts.Count; i++)
            {
                int item = i;
                var step = scenario.Puts[i];
                runs.Add(Schedule(loop, step, async () =>
                {
                    if (!step.Batch || queue.TryPutMany([item]) == 0) await queue.PutAsync(item);
                    put.Add(item); // the put happened: it returned
                }));
            }
            foreach (var step in scenario.Gets)
            {
                runs.Add(Schedule(loop, step, async () =>
                {
                    if (!step.Batch)
                    {
                        got.Add(await queue.GetAsync());
                        return;
                    }
                    var buffer = new int[2];
                    int n = await queue.GetManyAsync(buffer);
                    got.AddRange(buffer[..n]);
                }));
            }
            await loop.Delay(Ms(30)); // everything has started, finished or waits for good
            queue.Shutdown();
            foreach (var run in runs) await run;
            while (queue.TryGet(out int item)) left.Add(item);
        }, errors.Add);
        Assert.Empty(errors);

        var accounted = got.Concat(left).Order().ToList();
        Assert.Equal(put.Order().ToList(), accounted); // every item put was got or is still there, once
    }

    private static void RunPermitScenario(PermitScenario scenario)
    {
        int inside = 0, most = 0, available = -1;
        var errors = new List<LoopError>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            LoopSemaphore? semaphore = scenario.Permits > 1 ? new LoopSemaphore(scenario.Permits) : null;
            var gate = new LoopLock();
            var runs = new List<LoopTask>();
            foreach (var (step, hold) in scenario.Holders)
            {
                runs.Add(Schedule(loop, step, async () =>
                {
                    if (semaphore is null) await gate.AcquireAsync();
                    else await semaphore.AcquireAsync();
                    most = Math.Max(most, ++inside);
                    try
                    {
                        await loop.Delay(Ms(hold));
                    }
                    finally
                    {
                        inside--;
                        if (semaphore is null) gate.Release();
                        else semaphore.Release();
                    }
                }));
            }
            foreach (var run in runs) await run;
            available = semaphore?.CurrentCount ?? (gate.IsLocked ? 0 : 1);
        }, errors.Add);
        Assert.Empty(errors);

        Assert.True(most <= scenario.Permits, $"{most} tasks held one of {scenario.Permits} permits at once");
        Assert.Equal(scenario.Permits, available);
        Assert.Equal(0, inside);
    }

    /// <summary>
    /// Starts <paramref name="operation"/> at <see cref="Step.At"/> as a task of its own, under a timeout if the step
    /// has one, and cancels that task at <see cref="Step.CancelAt"/>; the returned task ends once it has, however.
    /// </summary>
    private static LoopTask Schedule(EventLoop loop, Step step, Func<Task> operation)
    {
        LoopTask? started = null;
        if (step.CancelAt >= 0)
        {
            loop.Spawn(async () =>
            {
                await loop.Delay(Ms(step.CancelAt));
                for (int i = 0; i < step.CancelTurns; i++) await loop.Yield();
                started?.Cancel();
            });
        }
        return loop.Spawn(async () =>
        {
            await loop.Delay(Ms(step.At));
            for (int i = 0; i < step.Turns; i++) await loop.Yield();
            started = loop.Spawn(step.Timeout < 0 ? operation : () => loop.WithTimeout(Ms(step.Timeout), _ => operation()));
            try
            {
                await started;
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException or QueueShutDownException)
            {
                // the operation did not happen
            }
        });
    }
}
