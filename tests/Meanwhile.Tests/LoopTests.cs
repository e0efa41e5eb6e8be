using System.Collections.Concurrent;
using System.Diagnostics;

namespace Meanwhile.Tests;

public class LoopTests
{
    [Fact]
    public void Run_returns_the_main_result_and_runs_on_the_calling_thread()
    {
        int caller = Environment.CurrentManagedThreadId;
        int seen = 0;
        int result = EventLoop.Run(async () =>
        {
            seen = Environment.CurrentManagedThreadId;
            await EventLoop.Current.Yield();
            return 42;
        });
        Assert.Equal(42, result);
        Assert.Equal(caller, seen);
    }

    [Fact]
    public void Spawned_tasks_start_on_the_next_turn_in_spawn_order()
    {
        var log = new List<string>();
        Loops.Run(async loop =>
        {
            var a = loop.Spawn(async () => { log.Add("a"); await loop.Yield(); log.Add("a2"); });
            var b = loop.Spawn(async () => { log.Add("b"); await loop.Yield(); log.Add("b2"); });
            log.Add("parent");
            await a;
            await b;
        });
        Assert.Equal(["parent", "a", "b", "a2", "b2"], log);
    }

    [Fact]
    public void CallSoon_runs_callbacks_in_FIFO_order_after_current_work()
    {
        var log = new List<int>();
        Loops.Run(async loop =>
        {
            for (int i = 0; i < 5; i++)
            {
                int n = i;
                loop.CallSoon(() => log.Add(n));
            }
            Assert.Empty(log);
            await loop.Yield();
        });
        Assert.Equal([0, 1, 2, 3, 4], log);
    }

    [Fact]
    public void Failures_propagate_to_the_awaiter_and_out_of_Run()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Loops.Run(async loop =>
        {
            var child = loop.Spawn(async () =>
            {
                await loop.Yield();
                throw new InvalidOperationException("boom");
            });
            await child;
        }));
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public void A_failure_thrown_before_the_first_await_still_goes_through_the_task()
    {
        Loops.Run(async loop =>
        {
            var child = loop.Spawn(() => throw new FormatException("early"));
            var e = await Assert.ThrowsAsync<FormatException>(async () => await child);
            Assert.Equal(LoopTaskStatus.Faulted, child.Status);
            Assert.Same(e, child.Exception);
        });
    }

    [Fact]
    public void Spawned_task_results_are_available_by_await_and_as_Task()
    {
        Loops.Run(async loop =>
        {
            var child = loop.Spawn(async () => { await loop.Yield(); return "value"; });
            Task<string> asTask = child.AsTask();
            Assert.Equal("value", await child);
            Assert.Equal("value", await asTask);
            Assert.Equal("value", child.Result);
        });
    }

    [Fact]
    public void Cancelling_a_parent_cancels_its_children_and_grandchildren()
    {
        var cancelled = new List<string>();
        Loops.RunVirtual(async (loop, clock) =>
        {
            LoopTask? child = null, grandchild = null;
            var parent = loop.Spawn(async () =>
            {
                child = loop.Spawn(async () =>
                {
                    grandchild = loop.Spawn(async () =>
                    {
                        try { await loop.Delay(TimeSpan.FromHours(1)); }
                        catch (OperationCanceledException) { cancelled.Add("grandchild"); throw; }
                    });
                    try { await loop.Delay(TimeSpan.FromHours(1)); }
                    catch (OperationCanceledException) { cancelled.Add("child"); throw; }
                });
                try { await loop.Delay(TimeSpan.FromHours(1)); }
                catch (OperationCanceledException) { cancelled.Add("parent"); throw; }
            });
            await loop.Delay(TimeSpan.FromSeconds(1));
            parent.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await parent);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await child!);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await grandchild!);
            Assert.Equal(TimeSpan.FromSeconds(1), clock.Elapsed);
        });
        Assert.Equal(["parent", "child", "grandchild"], cancelled); // each resumes in cancellation order
    }

    [Fact]
    public void A_task_cancelled_before_it_starts_never_runs()
    {
        Loops.Run(async loop =>
        {
            bool ran = false;
            var task = loop.Spawn(() => { ran = true; return Task.CompletedTask; });
            task.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await task);
            Assert.False(ran);
            Assert.Equal(LoopTaskStatus.Canceled, task.Status);
        });
    }

    [Fact]
    public void The_task_token_is_cancelled_with_the_task()
    {
        Loops.Run(async loop =>
        {
            var started = new TaskCompletionSource();
            var task = loop.Spawn(async token =>
            {
                started.SetResult();
                await Task.Delay(Timeout.Infinite, token); // a non-loop API observing the task's token
            });
            await started.Task;
            task.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await task);
        });
    }

    [Fact]
    public void Eight_threads_posting_100000_items_each_lose_none()
    {
        const int Threads = 8, PerThread = 100_000;
        long sum = 0;
        int count = 0;
        Loops.Run(async loop =>
        {
            var allDone = new TaskCompletionSource();
            var posters = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                for (int i = 0; i < PerThread; i++)
                {
                    int value = t * PerThread + i;
                    loop.Post(() =>
                    {
                        Assert.True(loop.IsLoopThread);
                        sum += value;
                        if (++count == Threads * PerThread) allDone.SetResult();
                    });
                }
            })).ToList();
            posters.ForEach(p => p.Start());
            await allDone.Task;
            posters.ForEach(p => p.Join());
        });
        long n = Threads * PerThread;
        Assert.Equal(n, count);
        Assert.Equal(n * (n - 1) / 2, sum);
    }

    [Fact]
    public void Post_wakes_a_sleeping_loop()
    {
        Loops.Run(async loop =>
        {
            var posted = new TaskCompletionSource<int>();
            var sleeper = loop.Spawn(() => loop.Delay(TimeSpan.FromSeconds(20)).AsTask());
            var stopwatch = Stopwatch.StartNew();
            _ = Task.Run(async () =>
            {
                await Task.Delay(50);
                loop.Post(() => posted.SetResult(Environment.CurrentManagedThreadId));
            });
            int thread = await posted.Task;
            Assert.Equal(Environment.CurrentManagedThreadId, thread);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"woke after {stopwatch.Elapsed}");
            sleeper.Cancel();
        });
    }

    [Fact]
    public void No_continuation_of_loop_code_runs_on_another_thread()
    {
        Loops.Run(async loop =>
        {
            int loopThread = Environment.CurrentManagedThreadId;
            void Check(string where) => Assert.True(Environment.CurrentManagedThreadId == loopThread, $"resumed off the loop after {where}");

            await loop.Yield(); Check("Yield");
            await loop.Delay(TimeSpan.FromMilliseconds(5)); Check("Delay");
            await loop.Delay(TimeSpan.FromMilliseconds(5)).ConfigureAwait(false); Check("Delay with ConfigureAwait(false)");
            await Task.Delay(5); Check("Task.Delay (thread-pool timer)");
            await Task.Run(() => Thread.Sleep(5)); Check("Task.Run");
            int worker = await loop.RunOnWorker(() => Environment.CurrentManagedThreadId);
            Assert.NotEqual(loopThread, worker);
            Check("RunOnWorker");
            var tcs = new TaskCompletionSource();
            _ = Task.Run(() => tcs.SetResult());
            await tcs.Task; Check("a TaskCompletionSource completed on the pool");
            await loop.Spawn(async () => { await Task.Yield(); Check("Task.Yield in a child"); });
            Check("a child task");
            await loop.WhenAll(Task.Delay(5), loop.Spawn(() => loop.Delay(TimeSpan.FromMilliseconds(3)).AsTask()));
            Check("WhenAll");
            await TaskGroup.RunAsync(async g => { _ = g.Spawn(() => Task.Delay(5)); await Task.Delay(1); Check("group body"); });
            Check("TaskGroup");
        });
    }

    [Fact]
    public void RunOnWorker_offloads_blocking_work_while_the_loop_keeps_running()
    {
        Loops.Run(async loop =>
        {
            using var release = new ManualResetEventSlim();
            var blocking = loop.RunOnWorker(() => { release.Wait(); return 7; });
            int ticks = 0;
            for (int i = 0; i < 10; i++) { await loop.Yield(); ticks++; } // the loop is not blocked
            Assert.Equal(10, ticks);
            Assert.False(blocking.IsCompleted);
            release.Set();
            Assert.Equal(7, await blocking);

            var failing = loop.RunOnWorker(() => throw new IOException("disk"));
            await Assert.ThrowsAsync<IOException>(() => failing);
        });
    }

    [Fact]
    public void Stop_cancels_every_task_and_Run_returns()
    {
        bool childCancelled = false;
        Loops.Run(async loop =>
        {
            _ = loop.Spawn(async () =>
            {
                try { await loop.Delay(TimeSpan.FromHours(1)); }
                catch (OperationCanceledException) { childCancelled = true; throw; }
            });
            _ = Task.Run(() => loop.Post(loop.Stop));
            await loop.Delay(TimeSpan.FromHours(1));
        });
        Assert.True(childCancelled);
    }

    [Fact]
    public void Tasks_left_running_when_main_returns_are_cancelled()
    {
        bool cleanedUp = false;
        bool neverStarted = true;
        Loops.Run(async loop =>
        {
            _ = loop.Spawn(async () =>
            {
                try { await loop.Delay(TimeSpan.FromHours(1)); }
                finally { cleanedUp = true; }
            });
            await loop.Yield(); // let it start
            _ = loop.Spawn(() => { neverStarted = false; return Task.CompletedTask; }); // cancelled before its first turn
        });
        Assert.True(cleanedUp);
        Assert.True(neverStarted);
    }

    [Fact]
    public void A_callback_that_throws_is_reported_and_the_loop_goes_on()
    {
        var errors = new List<LoopError>();
        bool after = false;
        Loops.Run(async loop =>
        {
            loop.CallSoon(() => throw new InvalidDataException("callback"));
            loop.CallSoon(() => after = true);
            await loop.Yield();
            await loop.Yield();
        }, new EventLoopOptions { OnError = errors.Add });
        Assert.True(after);
        Assert.IsType<InvalidDataException>(Assert.Single(errors).Exception);
    }

    [Fact]
    public void An_unobserved_failure_is_reported_when_the_loop_finishes()
    {
        var errors = new List<LoopError>();
        Loops.Run(async loop =>
        {
            _ = loop.Spawn(async () => { await loop.Yield(); throw new ArithmeticException("nobody looks"); }, "orphan");
            var observed = loop.Spawn(async () => { await loop.Yield(); throw new ArithmeticException("awaited"); });
            await Assert.ThrowsAsync<ArithmeticException>(async () => await observed);
            await loop.Yield();
            await loop.Yield();
        }, new EventLoopOptions { OnError = errors.Add });
        var error = Assert.Single(errors);
        Assert.Equal("nobody looks", error.Exception.Message);
        Assert.Equal("orphan", error.TaskName);
    }

    [Fact]
    public void An_unobserved_failure_is_reported_once_on_the_loop_when_its_task_is_collected_just_before_the_run_ends()
    {
        // A collection between the failure and the end of the run (any test's allocations may cause one) once took the
        // fault out of the final sweep's reach; its finalizer then reported it after Run had returned, on another thread.
        var errors = new List<(LoopError Error, int Thread)>();
        int loopThread = 0;
        Loops.Run(async loop =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            _ = loop.Spawn(async () => { await loop.Yield(); throw new ArithmeticException("collected"); }, "orphan");
            await loop.Yield();
            await loop.Yield();
            GC.Collect(); // the failed task is garbage now; its finalizer may run at any moment from here
        }, new EventLoopOptions { OnError = e => { lock (errors) errors.Add((e, Environment.CurrentManagedThreadId)); } });
        lock (errors) Assert.Equal(loopThread, Assert.Single(errors).Thread);
        GC.Collect();
        GC.WaitForPendingFinalizers(); // a late finalizer must not report it again
        lock (errors)
        {
            var (error, _) = Assert.Single(errors);
            Assert.Equal("collected", error.Exception.Message);
            Assert.Equal("orphan", error.TaskName);
        }
    }

    [Fact]
    public void An_unobserved_failure_is_reported_when_the_task_is_collected()
    {
        LoopError? reported = null;
        Loops.Run(async loop =>
        {
            SpawnAndForget(loop);
            for (int i = 0; i < 3; i++) await loop.Yield();
            var deadline = Stopwatch.StartNew();
            while (reported is null && deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                await loop.Delay(TimeSpan.FromMilliseconds(10));
            }
        }, new EventLoopOptions { OnError = e => reported = e });
        Assert.NotNull(reported);
        Assert.Equal("collected", reported.Exception.Message);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static void SpawnAndForget(EventLoop loop) =>
            _ = loop.Spawn(async () => { await loop.Yield(); throw new ArithmeticException("collected"); });
    }

    [Fact]
    public void Synchronization_context_and_scheduler_run_work_on_the_loop()
    {
        Loops.Run(async loop =>
        {
            int loopThread = Environment.CurrentManagedThreadId;
            var context = SynchronizationContext.Current!;
            Assert.NotNull(context);
            var viaContext = new TaskCompletionSource<int>();
            _ = Task.Run(() => context.Post(_ => viaContext.SetResult(Environment.CurrentManagedThreadId), null));
            Assert.Equal(loopThread, await viaContext.Task);
            int viaScheduler = await Task.Factory.StartNew(() => Environment.CurrentManagedThreadId, CancellationToken.None, TaskCreationOptions.None, loop.Scheduler);
            Assert.Equal(loopThread, viaScheduler);
            Assert.Same(TaskScheduler.Default, TaskScheduler.Current); // the loop does not take over the ambient scheduler
        });
    }

    [Fact]
    public void A_task_finishes_however_its_last_await_resumes()
    {
        // The loop learns that a task's method finished by checking after each piece of the task it runs; a method that
        // finishes elsewhere (off the loop after ConfigureAwait(false), inside another task's piece through a foreign
        // awaitable, or after awaiting a Task completed by another task) must still complete its task.
        Loops.Run(async loop =>
        {
            var offLoop = loop.Spawn(async () =>
            {
                await loop.Yield();
                await Task.Delay(5).ConfigureAwait(false); // continues on the thread pool and finishes there
                return Environment.CurrentManagedThreadId;
            });
            var gate = new TaskCompletionSource();
            var viaOtherTask = loop.Spawn(async () => { await gate.Task; return 1; });
            var opener = loop.Spawn(async () => { await loop.Yield(); gate.SetResult(); });
            var inline = new InlineSource();
            var viaForeignAwaitable = loop.Spawn(async () => { await loop.Delay(TimeSpan.FromMilliseconds(1)); await inline; return 2; });
            var completer = loop.Spawn(async () => { await loop.Delay(TimeSpan.FromMilliseconds(20)); inline.Complete(); });
            var nested = loop.Spawn(async () =>
            {
                await Inner().ConfigureAwait(false); // the inner method finishes on the loop, this one on the pool
                return 3;
                async Task Inner() => await loop.Delay(TimeSpan.FromMilliseconds(2));
            });
            var finished = await loop.WhenAll([offLoop.AsTask(), viaOtherTask.AsTask(), viaForeignAwaitable.AsTask(), nested.AsTask()]).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal([1, 2, 3], finished[1..]);
            await opener;
            await completer;
            Assert.All(new LoopTask[] { offLoop, viaOtherTask, viaForeignAwaitable, nested, opener, completer },
                t => Assert.Equal(LoopTaskStatus.RanToCompletion, t.Status));
        });
    }

    [Fact]
    public void Tasks_that_keep_yielding_do_not_starve_io_or_timers()
    {
        // The reactor is polled between turns once a bounded number of ready items have run, even while work stays
        // ready; timers are looked at every turn.
        Loops.Run(async loop =>
        {
            var spinners = new Spinners(loop);
            await using var listener = StreamListener.ListenTcp(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            var accept = loop.Spawn(async () => await listener.AcceptAsync());
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            await using var server = await accept;
            await client.WriteAsync("x"u8.ToArray());
            Assert.Equal(1, await server.ReadAsync(new byte[4]));
            await loop.Delay(TimeSpan.FromMilliseconds(5));
            await spinners.StopAsync();
            Assert.True(spinners.Spins > 0);
        });
    }

    [Fact]
    public void Work_posted_from_other_threads_runs_while_tasks_keep_yielding_and_no_descriptor_is_registered()
    {
        // With nothing registered the loop skips its non-blocking polls; what other threads post must still get in
        // (it shows through the loop's wake-up flag, not the reactor).
        Loops.Run(async loop =>
        {
            Assert.False(loop.Poller.HasSources);
            var spinners = new Spinners(loop);
            for (int i = 0; i < 20; i++)
            {
                var posted = new TaskCompletionSource();
                var poster = new Thread(() => loop.Post(() => posted.SetResult()));
                poster.Start();
                await posted.Task.WaitAsync(TimeSpan.FromSeconds(10)); // resumes through a post as well
                poster.Join();
            }
            long before = spinners.Spins;
            await loop.Yield();
            Assert.True(spinners.Spins > before, "the spinners kept running meanwhile");
            await spinners.StopAsync();
        });
    }

    [Fact]
    public void Code_the_loop_runs_between_and_after_task_turns_runs_in_no_task()
    {
        // The loop leaves the last item's context installed while it goes straight on to more ready work; whatever
        // it runs outside a ready item must still see no current task: here the cancellation callbacks that run when
        // the main task has ended and the loop cancels what is left, and a timer's callback between two tasks that
        // hand a yield back and forth.
        LoopTask? seenAtShutdown = null;
        bool shutdownCallbackRan = false;
        LoopTask? seenByTimer = null;
        Loops.Run(async loop =>
        {
            var leftOver = loop.Spawn(async () =>
            {
                LoopTask.CurrentToken.Register(() =>
                {
                    shutdownCallbackRan = true;
                    seenAtShutdown = LoopTask.Current;
                });
                await loop.Delay(TimeSpan.FromHours(1));
            });
            bool timerRan = false;
            loop.CallLater(TimeSpan.FromMilliseconds(1), () =>
            {
                timerRan = true;
                seenByTimer = LoopTask.Current;
            });
            var partner = loop.Spawn(async () =>
            {
                while (!timerRan) await loop.Yield();
            });
            while (!timerRan) await loop.Yield();
            await partner;
        });
        Assert.True(shutdownCallbackRan);
        Assert.Null(seenAtShutdown);
        Assert.Null(seenByTimer);
    }

    /// <summary>Two tasks that yield until stopped: ready work that never runs out.</summary>
    private sealed class Spinners
    {
        private readonly List<LoopTask> _tasks;
        private bool _stop;

        public Spinners(EventLoop loop) => _tasks = Enumerable.Range(0, 2).Select(_ => loop.Spawn(async () =>
        {
            while (!_stop)
            {
                Spins++;
                await loop.Yield();
            }
        })).ToList();

        public long Spins { get; private set; }

        public async Task StopAsync()
        {
            _stop = true;
            foreach (var task in _tasks) await task;
        }
    }

    /// <summary>An awaitable that runs its continuation inline wherever it is completed, as some libraries do.</summary>
    private sealed class InlineSource : System.Runtime.CompilerServices.INotifyCompletion
    {
        private Action? _continuation;
        public bool IsCompleted { get; private set; }
        public InlineSource GetAwaiter() => this;
        public void GetResult() { }
        public void OnCompleted(Action continuation) => _continuation = continuation;
        public void Complete()
        {
            IsCompleted = true;
            _continuation?.Invoke();
        }
    }
}
