using System.Diagnostics;
using System.Reflection;
using Xunit.Abstractions;

namespace Meanwhile.Tests;

/// <summary>
/// What <see cref="LoopPoolingValueTaskMethodBuilder"/> is for: many calls of one method waiting at once (a server's
/// connections each in its request) allocate nothing once warm, where the runtime's pooling builder keeps about one box
/// per core. Bounds for an optimized build (<c>dotnet test -c Release --filter FullyQualifiedName~Allocation</c>).
/// </summary>
public sealed class LoopPoolingBuilderAllocationTests(ITestOutputHelper output)
{
    private static readonly bool Optimized =
        typeof(LoopPoolingValueTaskMethodBuilder).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;

    [Fact]
    public void Sixty_four_calls_waiting_at_once_allocate_nothing_once_warm()
    {
        var gates = Enumerable.Range(0, 64).Select(_ => new ReusableGate()).ToArray();
        var otherGates = Enumerable.Range(0, 64).Select(_ => new ReusableGate()).ToArray();
        var results = new ValueTask<int>[gates.Length];
        var done = new ValueTask[gates.Length];
        void Round()
        {
            for (int i = 0; i < gates.Length; i++)
            {
                results[i] = LoopPoolingBuilderTests.AddOneAsync(gates[i]);
                done[i] = LoopPoolingBuilderTests.DoneAsync(otherGates[i]);
            }
            for (int i = 0; i < gates.Length; i++)
            {
                gates[i].Open(i);
                Check(results[i].Result == i + 1);
                otherGates[i].Open(0);
                done[i].GetAwaiter().GetResult();
            }
        }
        Round(); // warm: the boxes made
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int n = 0; n < 100; n++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{allocated} bytes over 100 rounds of 128 calls waiting at once ({(Optimized ? "optimized" : "debug")} build)");
        // Debug: state machines are classes, one per call.
        Assert.True(allocated <= (Optimized ? 0 : 100 * 128 * 512), $"{allocated} bytes allocated");
    }

    private static void Check(bool condition)
    {
        if (!condition) throw new InvalidOperationException("wrong result");
    }
}
