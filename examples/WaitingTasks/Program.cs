// A loop whose tasks wait on each kind of thing `meanwhile ps` shows, to look at from another terminal:
//
//   dotnet run --project examples/WaitingTasks            prints "ready PID"; then try: meanwhile ps PID --tree
//   dotnet run --project examples/WaitingTasks -- --stuck  the spinner stops yielding: ps names it as running
//   MEANWHILE_DIAGNOSTICS=1 dotnet run --project examples/WaitingTasks -- --diagnostics-from-environment
//                                                          the loop leaves diagnostics to the environment, as by default
//
// The tasks: "ticker" sleeps on a timer, "reader" waits for bytes on a TCP connection, "consumer" waits for an item of
// the queue "jobs", "foreign" awaits a Task the loop does not run, "spinner" computes 20 ms at a time and yields, and
// the main task waits for standard input to end on a worker thread (close it, or press Ctrl+D, to stop).
using System.Diagnostics;
using System.Net;
using Meanwhile;

bool stuck = args.Contains("--stuck");
bool? diagnostics = args.Contains("--diagnostics-from-environment") ? null : true;
EventLoop.Run(async () =>
{
    var loop = EventLoop.Current;
    var queue = new LoopQueue<string>(name: "jobs");
    await using var listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
    var ticker = loop.Spawn(async () =>
    {
        while (true) await loop.Delay(TimeSpan.FromMinutes(10));
    }, "ticker");
    var reader = loop.Spawn(async () =>
    {
        await using var peer = await listener.AcceptAsync();
        await peer.ReadAsync(new byte[1]);
    }, "reader");
    await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
    var consumer = loop.Spawn(async () =>
    {
        while (true) Console.WriteLine($"job: {await queue.GetAsync()}");
    }, "consumer");
    var never = new TaskCompletionSource();
    var foreign = loop.Spawn(async () => await never.Task, "foreign");
    var spinner = loop.Spawn(async () =>
    {
        while (true)
        {
            Spin(TimeSpan.FromMilliseconds(20));
            await loop.Yield();
            if (stuck)
            {
                Console.WriteLine("stuck");
                while (true) Spin(TimeSpan.FromSeconds(1)); // never yields again: the loop cannot answer
            }
        }
    }, "spinner");
    await loop.Yield();
    Console.WriteLine($"ready {Environment.ProcessId}");
    await loop.RunOnWorker(() => Console.In.ReadToEnd());
    foreach (var task in new[] { ticker, reader, consumer, foreign, spinner }) task.Cancel();
    never.SetCanceled();
}, new EventLoopOptions { Diagnostics = diagnostics, Name = "main loop" });

static void Spin(TimeSpan duration)
{
    long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
    while (Stopwatch.GetTimestamp() < end) Thread.SpinWait(20);
}
