using Meanwhile;
using Meanwhile.Examples;

// The seed chapter's steps, replayed on the Meanwhile loop.
//   dotnet run --project examples/SeedChapter -- [tictac|cancellation|fastfood|idle|all] [--virtual]
// --virtual runs on a virtual clock: the same output, without the real waiting.
var which = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
var options = new EventLoopOptions { TimeProvider = args.Contains("--virtual") ? new VirtualClock() : null };
var output = Console.Out;

if (which is not ("tictac" or "cancellation" or "fastfood" or "idle" or "all"))
{
    Console.Error.WriteLine($"unknown example '{which}': choose tictac, cancellation, fastfood, idle or all");
    return 2;
}

EventLoop.Run(async () =>
{
    if (which is "tictac" or "all")
    {
        output.WriteLine("== Tic-tac: two coroutines taking turns ==");
        await TicTac.RunAsync(output);
    }
    if (which is "cancellation" or "all")
    {
        output.WriteLine("== Concurrent tasks and cancellation ==");
        await Cancellation.RunAsync(output);
    }
    if (which is "fastfood" or "all")
    {
        output.WriteLine("== Waiting for tasks: the fast-food order ==");
        var sequential = await FastFood.ServeSequentiallyAsync(output);
        output.WriteLine($"one after the other: {sequential.TotalSeconds:0.0} s");
        var concurrent = await FastFood.ServeConcurrentlyAsync(output);
        output.WriteLine($"all at once: {concurrent.TotalSeconds:0.0} s");
    }
    if (which is "idle" && options.TimeProvider is null) // real time only: it measures what waiting costs
    {
        output.WriteLine("== Waiting costs nothing ==");
        await Idle.RunAsync(output, TimeSpan.FromSeconds(1));
    }
}, options);
return 0;
