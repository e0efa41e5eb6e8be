using System.Threading.Tasks.Sources;

namespace Meanwhile.Tests;

/// <summary>
/// <see cref="LoopValueTaskSourceCore{TResult}"/>: a reusable source whose awaiter resumes on the loop, in its own task,
/// inline when the completion runs in that task's code.
/// </summary>
public sealed class LoopValueTaskSourceCoreTests
{
    /// <summary>The smallest pooled source: the pattern the core is for.</summary>
    private sealed class Operation(EventLoop loop) : IValueTaskSource<int>
    {
        private LoopValueTaskSourceCore<int> _core = new(loop);

        public short Version => _core.Version;

        public ValueTask<int> Start()
        {
            _core.Reset();
            return new ValueTask<int>(this, _core.Version);
        }

        public void Succeed(int value) => _core.SetResult(value);

        public void Fail(Exception error) => _core.SetException(error);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public int GetResult(short token) => _core.GetResult(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    [Fact]
    public void Completed_by_the_awaiting_task_itself_the_awaiter_runs_inline()
    {
        var steps = new List<string>();
        Loops.Run(async loop =>
        {
            var operation = new Operation(loop);
            await loop.Spawn(async () =>
            {
                var pending = operation.Start();
                var completing = CompleteAfterAYield(); // resumes in this same task, as a read's continuation does
                steps.Add("awaits");
                steps.Add($"resumed with {await pending}");
                await completing;
            });

            async Task CompleteAfterAYield()
            {
                await loop.Yield();
                steps.Add("completes");
                operation.Succeed(42);
                steps.Add("after completing");
            }
        });
        Assert.Equal(["awaits", "completes", "resumed with 42", "after completing"], steps);
    }

    [Fact]
    public void Completed_by_another_task_the_awaiter_resumes_later_in_its_own_task()
    {
        Loops.Run(async loop =>
        {
            var operation = new Operation(loop);
            LoopTask? resumedIn = null;
            bool completerDone = false;
            bool resumedBeforeCompleterFinished = false;
            var waiter = loop.Spawn(async () =>
            {
                await operation.Start();
                resumedIn = LoopTask.Current;
                resumedBeforeCompleterFinished = !completerDone;
            }, "waiter");
            var completer = loop.Spawn(async () =>
            {
                await loop.Yield();
                operation.Succeed(1);
                completerDone = true;
            }, "completer");
            await loop.WhenAll(waiter, completer);
            Assert.Same(waiter, resumedIn);
            Assert.False(resumedBeforeCompleterFinished);
        });
    }

    [Fact]
    public void An_error_is_thrown_and_a_cancellation_is_a_cancellation()
    {
        Loops.Run(async loop =>
        {
            var operation = new Operation(loop);
            var failing = operation.Start();
            operation.Fail(new InvalidDataException("bad"));
            Assert.True(failing.IsFaulted);
            await Assert.ThrowsAsync<InvalidDataException>(async () => await failing);

            var canceled = operation.Start();
            operation.Fail(new OperationCanceledException());
            Assert.True(canceled.IsCanceled);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await canceled);
        });
    }

    [Fact]
    public void A_reused_source_refuses_an_earlier_value_task_and_completes_once()
    {
        Loops.Run(async loop =>
        {
            var operation = new Operation(loop);
            var first = operation.Start();
            operation.Succeed(1);
            Assert.Equal(1, await first);
            var second = operation.Start();
            Assert.Throws<InvalidOperationException>(() => first.GetAwaiter().GetResult());
            operation.Succeed(2);
            Assert.Throws<InvalidOperationException>(() => operation.Succeed(3));
            Assert.Equal(2, await second);
        });
    }

    [Fact]
    public void As_a_task_it_completes_for_code_off_the_loop()
    {
        Loops.Run(async loop =>
        {
            var operation = new Operation(loop);
            var task = operation.Start().AsTask();
            await loop.Yield();
            operation.Succeed(7);
            Assert.Equal(7, await task.WaitAsync(TimeSpan.FromSeconds(10)));
        });
    }

    [Fact]
    public void It_is_completed_on_the_loop_thread_only()
    {
        Loops.Run(async loop =>
        {
            var operation = new Operation(loop);
            _ = operation.Start();
            await Task.Run(() => Assert.Throws<InvalidOperationException>(() => operation.Succeed(1))).WaitAsync(TimeSpan.FromSeconds(10));
            operation.Succeed(1);
        });
    }

    [Fact]
    public void A_warm_operation_allocates_nothing()
    {
        Loops.Run(loop =>
        {
            var operation = new Operation(loop);
            long sum = 0;
            for (int i = 0; i < 10; i++) sum += Round(operation, i);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++) sum += Round(operation, i);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(55 + 500_500, sum);
            return Task.CompletedTask;
        });
    }

    private static readonly Action<object?> Ignore = static _ => { };

    private static int Round(Operation operation, int i)
    {
        _ = operation.Start();
        operation.OnCompleted(Ignore, null, operation.Version, ValueTaskSourceOnCompletedFlags.None);
        operation.Succeed(i + 1);
        return operation.GetResult(operation.Version);
    }
}
