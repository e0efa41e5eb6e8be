using System.Diagnostics;
using System.Net;

namespace Meanwhile.Tests;

/// <summary>Blocks every thread-pool thread, so it runs alone.</summary>
[CollectionDefinition(nameof(ThreadPoolStarving), DisableParallelization = true)]
public sealed class ThreadPoolStarving;

[Collection(nameof(ThreadPoolStarving))]
public class PoolStarvationTests
{
    [Fact]
    public void Socket_round_trips_keep_their_pace_while_every_thread_pool_thread_is_blocked()
    {
        ThreadPool.GetMinThreads(out int minWorkers, out int minCompletion);
        ThreadPool.SetMinThreads(1, 1);
        var release = new ManualResetEventSlim(); // not disposed: blockers still queued wait on it after the test
        int blocked = 0;
        try
        {
            // Far more blockers than threads: every thread the pool has, or adds while the test runs, takes one and
            // stays blocked, and the rest stay queued. Anything that needs a pool thread now waits behind them all.
            for (int i = 0; i < Environment.ProcessorCount * 8 + 64; i++)
                ThreadPool.UnsafeQueueUserWorkItem(_ =>
                {
                    Interlocked.Increment(ref blocked);
                    release.Wait();
                }, null);
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref blocked) > 0, TimeSpan.FromSeconds(10)), "no pool thread started");

            var slowest = Loops.Run(async loop =>
            {
                await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
                var echo = loop.Spawn(async () =>
                {
                    await using var connection = await listener.AcceptAsync();
                    var buffer = new byte[64];
                    int n;
                    while ((n = await connection.ReadAsync(buffer)) > 0) await connection.WriteAsync(buffer.AsMemory(0, n));
                }, "echo");
                await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
                var message = new byte[64];
                var answer = new byte[64];
                var slowest = TimeSpan.Zero;
                for (int i = 0; i < 200; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    await client.WriteAsync(message);
                    int got = 0;
                    while (got < message.Length) got += await client.ReadAsync(answer.AsMemory(got));
                    var elapsed = Stopwatch.GetElapsedTime(start);
                    if (elapsed > slowest) slowest = elapsed;
                }
                client.ShutdownWrite();
                await echo;
                return slowest;
            });

            // Still starved at the end: the round trips never had a pool thread to count on.
            Assert.True(ThreadPool.PendingWorkItemCount > 0, "the pool drained its queue: the test did not starve it");
            // A loopback round trip takes microseconds; a completion waiting for a pool thread would wait for the blockers.
            Assert.True(slowest < TimeSpan.FromSeconds(1), $"the slowest round trip took {slowest.TotalMilliseconds:0.#} ms");
        }
        finally
        {
            release.Set();
            ThreadPool.SetMinThreads(minWorkers, minCompletion);
        }
    }
}
