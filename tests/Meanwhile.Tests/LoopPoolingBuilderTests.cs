using System.Runtime.CompilerServices;

namespace Meanwhile.Tests;

/// <summary><see cref="LoopPoolingValueTaskMethodBuilder"/> and its generic twin behave as the runtime's builders do.</summary>
public sealed class LoopPoolingBuilderTests
{
    private static readonly AsyncLocal<string?> Local = new();

    [Fact]
    public async Task A_method_that_does_not_wait_returns_a_completed_task_with_its_result()
    {
        var task = AddOneAsync(null);
        Assert.True(task.IsCompletedSuccessfully);
        Assert.Equal(1, await task);
        Assert.True(DoneAsync(null).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_method_that_waits_completes_when_resumed_and_its_awaiter_resumes_inline()
    {
        var gate = new ReusableGate();
        var steps = new List<string>();
        var outer = OuterAsync(gate, steps);
        Assert.False(outer.IsCompleted);
        steps.Add("opening");
        gate.Open(41);
        steps.Add("opened");
        Assert.True(outer.IsCompletedSuccessfully);
        await outer;
        Assert.Equal(["opening", "inner 42", "outer done", "opened"], steps);
    }

    [Fact]
    public void The_boxes_of_finished_calls_serve_the_next_calls_with_their_own_state()
    {
        var gates = Enumerable.Range(0, 8).Select(_ => new ReusableGate()).ToArray();
        for (int round = 0; round < 3; round++)
        {
            var tasks = gates.Select(AddOneAsync).ToArray();
            for (int i = 0; i < gates.Length; i++) gates[i].Open(round * 100 + i);
            Assert.Equal(Enumerable.Range(0, gates.Length).Select(i => round * 100 + i + 1), tasks.Select(t => t.Result));
        }
    }

    [Fact]
    public async Task Failures_before_and_after_a_wait_reach_the_awaiter()
    {
        var early = FailAsync(null);
        Assert.True(early.IsFaulted);
        Assert.Equal("early", (await Assert.ThrowsAsync<InvalidOperationException>(async () => await early)).Message);

        var gate = new ReusableGate();
        var late = FailAsync(gate);
        Assert.False(late.IsCompleted);
        gate.Fail(new TimeoutException("late"));
        Assert.Equal("late", (await Assert.ThrowsAsync<TimeoutException>(async () => await late)).Message);
    }

    [Fact]
    public async Task A_task_read_twice_is_refused_the_second_time()
    {
        var gate = new ReusableGate();
        var task = AddOneAsync(gate);
        gate.Open(1);
        Assert.Equal(2, await task);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await task);
    }

    [Fact]
    public async Task The_method_keeps_its_async_locals_across_a_wait_and_leaves_its_callers_and_resumers_theirs()
    {
        var gate = new ReusableGate();
        Local.Value = "caller";
        var task = ReadLocalAfterWaitAsync(gate);
        Assert.Equal("caller", Local.Value);
        Local.Value = "resumer";
        gate.Open(0);
        Assert.Equal("resumer", Local.Value);
        Assert.Equal("method", await task);
    }

    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    internal static async ValueTask<int> AddOneAsync(ReusableGate? gate) => (gate is null ? 0 : await gate.WaitAsync().ConfigureAwait(false)) + 1;

    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder))]
    internal static async ValueTask DoneAsync(ReusableGate? gate)
    {
        if (gate is not null) await gate.WaitAsync().ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder))]
    private static async ValueTask OuterAsync(ReusableGate gate, List<string> steps)
    {
        steps.Add($"inner {await AddOneAsync(gate).ConfigureAwait(false)}");
        await DoneAsync(null).ConfigureAwait(false);
        steps.Add("outer done");
    }

    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder))]
    private static async ValueTask FailAsync(ReusableGate? gate)
    {
        if (gate is null) throw new InvalidOperationException("early");
        await gate.WaitAsync().ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    private static async ValueTask<string?> ReadLocalAfterWaitAsync(ReusableGate gate)
    {
        Local.Value = "method";
        await gate.WaitAsync().ConfigureAwait(false);
        return Local.Value;
    }
}
