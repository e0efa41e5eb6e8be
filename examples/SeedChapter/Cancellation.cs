namespace Meanwhile.Examples;

/// <summary>
/// Concurrent tasks and cancellation: a parent starts two workers that tick at different paces, lets them run
/// for 2.5 s, then cancels itself; cancelling the parent cancels its children, which stop at their next wait.
/// </summary>
public static class Cancellation
{
    public static async Task RunAsync(TextWriter output)
    {
        var loop = EventLoop.Current;
        var parent = loop.Spawn(async () =>
        {
            _ = loop.Spawn(() => TickAsync(output, "fast", TimeSpan.FromSeconds(0.5)), "fast");
            _ = loop.Spawn(() => TickAsync(output, "slow", TimeSpan.FromSeconds(1)), "slow");
            await loop.Sleep(TimeSpan.FromSeconds(2.5));
            output.WriteLine("parent: cancelling");
            LoopTask.Current!.Cancel();
            await loop.Sleep(TimeSpan.FromSeconds(10)); // ends at once: the parent is cancelled
        }, "parent");

        try
        {
            await parent;
        }
        catch (OperationCanceledException)
        {
            output.WriteLine("parent: cancelled");
        }
        // Let the children unwind (they were cancelled with their parent).
        while (loop.GetTasks().Count > 1) await loop.Yield();
    }

    private static async Task TickAsync(TextWriter output, string name, TimeSpan pace)
    {
        try
        {
            for (int tick = 1; ; tick++)
            {
                await EventLoop.Current.Sleep(pace);
                output.WriteLine($"{name}: tick {tick}");
            }
        }
        catch (OperationCanceledException)
        {
            output.WriteLine($"{name}: cancelled");
            throw;
        }
    }
}
