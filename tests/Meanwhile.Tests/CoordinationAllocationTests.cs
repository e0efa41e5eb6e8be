using System.Diagnostics;
using System.Reflection;
using Xunit.Abstractions;

namespace Meanwhile.Tests;

/// <summary>
/// Warm puts, gets and lock hand-offs allocate nothing. The bounds that matter are for an optimized build
/// (<c>dotnet test -c Release --filter FullyQualifiedName~Allocation</c>, as CI runs them); a Debug build compiles async
/// state machines as classes.
/// </summary>
public sealed class CoordinationAllocationTests(ITestOutputHelper output)
{
    private static readonly bool Optimized =
        typeof(LoopQueue<>).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;

    [Fact]
    public void A_warm_put_and_get_that_do_not_wait_allocate_nothing()
    {
        long allocated = Loops.Run(async loop =>
        {
            var queues = new LoopQueue<string>[] { new(capacity: 64), new LoopLifoQueue<string>(64), new LoopPriorityQueue<string>(capacity: 64) };
            var batch = new string[8];
            async Task Round()
            {
                foreach (var queue in queues)
                {
                    for (int i = 0; i < 32; i++) await queue.PutAsync("item");
                    for (int i = 0; i < 16; i++) await queue.GetAsync();
                    for (int i = 0; i < 16; i++) Check(queue.TryPut("item"));
                    Check(queue.TryPutMany(batch) == 8);
                    while (queue.TryGetMany(batch) > 0) { }
                    Check(await queue.GetManyAsync(Fill(queue, batch)) == 8);
                }
            }
            await Round(); // warm: storage at size
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int n = 0; n < 1_000; n++) await Round();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });
        output.WriteLine($"{allocated} bytes over 1,000 rounds of 240 puts and gets ({(Optimized ? "optimized" : "debug")} build)");
        // Debug: the test's own Round() is a class state machine, one per round.
        Assert.True(allocated <= (Optimized ? 0 : 1_000 * 256), $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_warm_hand_off_to_a_waiting_task_allocates_nothing()
    {
        long allocated = Loops.Run(async loop =>
        {
            var queue = new LoopQueue<string>(capacity: 1);
            var gate = new LoopLock();
            var signal = new LoopManualResetEvent();
            async Task Consume(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    await queue.GetAsync(); // waits: the producer puts after it
                    await gate.AcquireAsync(); // waits: the producer holds the lock until it yields
                    gate.Release();
                    await signal.WaitAsync();
                }
            }
            async Task Produce(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    await gate.AcquireAsync();
                    await loop.Yield();
                    await queue.PutAsync("item");
                    await loop.Yield();
                    gate.Release();
                    signal.Set();
                    await loop.Yield();
                    signal.Reset();
                }
            }
            async Task<long> Measure(int count)
            {
                var consumer = loop.Spawn(() => Consume(count));
                long before = GC.GetAllocatedBytesForCurrentThread();
                await Produce(count);
                await consumer;
                return GC.GetAllocatedBytesForCurrentThread() - before;
            }
            await Measure(2_000); // warm: the JIT, pooled waiters
            return await Measure(20_000) - await Measure(0); // what a spawned consumer costs, whatever the count
        });
        output.WriteLine($"{allocated} bytes over 20,000 hand-offs of an item, a lock and an event ({(Optimized ? "optimized" : "debug")} build)");
        Assert.True(allocated < (Optimized ? 1_024 : 4_000_000), $"{allocated} bytes allocated");
    }

    /// <summary>An assertion that allocates nothing (xunit's Assert.Equal makes a comparer per call).</summary>
    private static void Check(bool condition)
    {
        if (!condition) throw new InvalidOperationException("the queue did not behave as expected");
    }

    private static Memory<string> Fill(LoopQueue<string> queue, string[] batch)
    {
        queue.TryPutMany(batch);
        return batch;
    }
}
