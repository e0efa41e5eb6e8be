using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Meanwhile.Tests;

/// <summary>What a loop with diagnostics on knows of its tasks and turns (<see cref="EventLoop.TakeSnapshot"/>), and its slow-turn reports.</summary>
public class DiagnosticsTests
{
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    [Fact]
    public void A_snapshot_shows_each_task_with_its_state_what_it_waits_on_and_its_times()
    {
        Loops.Run(async loop =>
        {
            var queue = new LoopQueue<int>(name: "jobs");
            await using var listener = StreamListener.ListenTcp(AnyLoopbackPort);
            var sleeper = loop.Spawn(() => loop.Delay(TimeSpan.FromHours(1)).AsTask(), "sleeper");
            var consumer = loop.Spawn(async () => await queue.GetAsync(), "consumer");
            var reader = loop.Spawn(async () =>
            {
                await using var accepted = await listener.AcceptAsync();
                await accepted.ReadAsync(new byte[1]);
            }, "reader");
            await using var client = await SocketStream.ConnectAsync(listener.LocalEndPoint);
            int spins = 0;
            var spinner = loop.Spawn(async token =>
            {
                while (!token.IsCancellationRequested) // a yield is not a place where cancellation is seen
                {
                    Spin(TimeSpan.FromMilliseconds(1));
                    spins++;
                    await loop.Yield();
                }
            }, "spinner");
            while (spins < 20) await loop.Yield();

            var snapshot = loop.TakeSnapshot();
            var tasks = snapshot.Tasks.ToDictionary(t => t.Name ?? $"#{t.Id}");

            Assert.True(snapshot.IsConsistent);
            Assert.Equal(loop.Id, snapshot.LoopId);
            Assert.Equal(5, snapshot.LiveTasks);
            Assert.Equal(SchedulingState.Running, tasks["main"].State); // the one taking the snapshot
            Assert.Equal([sleeper.Id, consumer.Id, reader.Id, spinner.Id], tasks["main"].Children.Order());
            Assert.All(tasks.Values.Where(t => t.Name != "main"), t => Assert.Equal(tasks["main"].Id, t.ParentId));

            var timer = tasks["sleeper"];
            Assert.Equal((SchedulingState.Waiting, WaitKind.Timer, 1L), (timer.State, timer.WaitingOn.Kind, timer.Turns));
            Assert.InRange(timer.WaitDue!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
            Assert.True(timer.WaitingFor > TimeSpan.Zero);
            Assert.Contains("A_snapshot_shows_each_task", timer.Method, StringComparison.Ordinal);

            Assert.Equal((SchedulingState.Waiting, new WaitReason(WaitKind.QueueGet, 0, "jobs")), (tasks["consumer"].State, tasks["consumer"].WaitingOn));

            var socket = tasks["reader"];
            Assert.Equal(SchedulingState.Waiting, socket.State);
            // Both backends wait on the socket themselves, so both name it.
            Assert.Equal(WaitKind.Readable, socket.WaitingOn.Kind);
            Assert.Equal($"tcp {listener.LocalEndPoint} <-> {client.LocalEndPoint}", socket.WaitTarget);

            var spinning = tasks["spinner"];
            Assert.Equal(SchedulingState.Ready, spinning.State); // it yielded: queued for the next turn
            Assert.InRange(spinning.Turns!.Value, 20, long.MaxValue);
            Assert.True(spinning.BusyTime >= TimeSpan.FromMilliseconds(20), $"busy {spinning.BusyTime}");
            Assert.True(spinning.ScheduledTime > TimeSpan.Zero);
            Assert.True(spinning.LongestTurn >= TimeSpan.FromMilliseconds(1));
            Assert.True(snapshot.BusyTime >= spinning.BusyTime);
            Assert.Equal(TimeSpan.FromMilliseconds(100), snapshot.SlowTurnThreshold); // the default; its count depends on the machine

            spinner.Cancel();
            sleeper.Cancel();
            consumer.Cancel();
            reader.Cancel();
        }, new EventLoopOptions { Diagnostics = true });
    }

    [Fact]
    public void Without_diagnostics_a_snapshot_has_states_and_waits_but_measures_nothing()
    {
        Loops.Run(async loop =>
        {
            var sleeper = loop.Spawn(() => loop.Delay(TimeSpan.FromHours(1)).AsTask(), "sleeper");
            var yielder = loop.Spawn(async token =>
            {
                while (!token.IsCancellationRequested) await loop.Yield();
            }, "yielder");
            await loop.Yield();
            await loop.Yield();

            Assert.False(loop.IsDiagnosticsEnabled);
            var snapshot = loop.TakeSnapshot();
            var tasks = snapshot.Tasks.ToDictionary(t => t.Name!);
            Assert.Equal(SchedulingState.Waiting, tasks["sleeper"].State);
            Assert.Equal(SchedulingState.Ready, tasks["yielder"].State);
            Assert.All(tasks.Values, t => Assert.Null(t.BusyTime));
            Assert.All(tasks.Values, t => Assert.Null(t.Turns));
            Assert.Null(snapshot.BusyTime);
            Assert.Null(snapshot.SlowTurns);
            sleeper.Cancel();
            yielder.Cancel();
        }, new EventLoopOptions { Diagnostics = false });
    }

    [Fact]
    public void A_snapshot_is_bounded_and_counts_the_tasks_it_left_out()
    {
        Loops.Run(async loop =>
        {
            var sleepers = Enumerable.Range(0, 50).Select(i => loop.Spawn(() => loop.Delay(TimeSpan.FromHours(1)).AsTask(), $"sleeper {i}")).ToList();
            await loop.Yield();
            var snapshot = loop.TakeSnapshot(maxTasks: 10);
            Assert.Equal(10, snapshot.Tasks.Count);
            Assert.Equal(41, snapshot.TasksOmitted);
            Assert.Equal("main", snapshot.Tasks[0].Name); // parents come first
            foreach (var sleeper in sleepers) sleeper.Cancel();
        }, new EventLoopOptions { Diagnostics = true });
    }

    [Fact]
    public void A_turn_over_the_threshold_is_logged_with_its_task_and_async_method_and_counted()
    {
        var logs = new ListLoggerFactory();
        Loops.Run(async loop =>
        {
            // Other turns may be slow too on a busy machine (the first ones compile code): count only the hog's.
            await loop.Spawn(() => HogTheLoopAsync(loop), "hog");
            var snapshot = loop.TakeSnapshot();
            Assert.InRange(snapshot.SlowTurns!.Value, 1, long.MaxValue);
            Assert.Equal("hog", snapshot.LastSlowTurn!.Value.TaskName);
            Assert.Equal("DiagnosticsTests.HogTheLoopAsync", snapshot.LastSlowTurn.Value.Method);
            Assert.InRange(snapshot.LastSlowTurn.Value.Duration, TimeSpan.FromMilliseconds(60), TimeSpan.FromSeconds(30));
        }, new EventLoopOptions { Diagnostics = true, SlowTurnThreshold = TimeSpan.FromMilliseconds(50), LoggerFactory = logs, Name = "hogged" });

        Assert.All(logs.Entries, e => Assert.Equal(("Meanwhile.Loop", LogLevel.Warning), (e.Category, e.Level)));
        Assert.Contains(logs.Entries, e => System.Text.RegularExpressions.Regex.IsMatch(e.Message,
            @"^Slow turn on loop 'hogged': task #\d+ 'hog' ran \d+\.\d ms in DiagnosticsTests\.HogTheLoopAsync without awaiting"));
    }

    private static async Task HogTheLoopAsync(EventLoop loop)
    {
        await loop.Yield();
        await loop.Yield();
        Spin(TimeSpan.FromMilliseconds(60));
    }

    [Fact]
    public void A_slow_turn_resumed_by_a_lock_hand_off_names_the_method_the_lock_resumed()
    {
        Loops.Run(async loop =>
        {
            var gate = new LoopLock();
            await gate.AcquireAsync();
            var hog = loop.Spawn(() => HogAfterTheLockAsync(gate), "hog");
            await loop.Yield(); // the hog waits for the lock
            gate.Release(); // to the hog: its turn starts from the lock's own awaitable
            await hog;
            var snapshot = loop.TakeSnapshot();
            Assert.Equal("hog", snapshot.LastSlowTurn!.Value.TaskName);
            Assert.Equal("DiagnosticsTests.HogAfterTheLockAsync", snapshot.LastSlowTurn.Value.Method);
        }, new EventLoopOptions { Diagnostics = true, SlowTurnThreshold = TimeSpan.FromMilliseconds(50) });
    }

    private static async Task HogAfterTheLockAsync(LoopLock gate)
    {
        await gate.AcquireAsync();
        Spin(TimeSpan.FromMilliseconds(60));
        gate.Release();
    }

    [Fact]
    public void A_slow_loop_callback_is_reported_without_a_task()
    {
        var logs = new ListLoggerFactory();
        Loops.Run(async loop =>
        {
            loop.CallSoon(() => Spin(TimeSpan.FromMilliseconds(30)));
            await loop.Yield();
        }, new EventLoopOptions { Diagnostics = true, SlowTurnThreshold = TimeSpan.FromMilliseconds(20), LoggerFactory = logs });
        Assert.Contains(logs.Entries, e => e.Message.Contains("a loop callback ran", StringComparison.Ordinal) && e.Message.Contains("DiagnosticsTests", StringComparison.Ordinal));
    }

    [Fact]
    public void Compiler_names_read_as_the_methods_they_come_from()
    {
        Assert.Equal("RunAsync", AsyncMethodNames.MethodName("<RunAsync>d__12"));
        Assert.Equal("Main (lambda)", AsyncMethodNames.MethodName("<<Main>b__0_1>d"));
        Assert.Equal("Main.Step", AsyncMethodNames.MethodName("<<Main>g__Step|0_2>d"));
        Assert.Equal("Main (lambda)", AsyncMethodNames.MethodName("<Main>b__3_0"));
        Assert.Equal("Heartbeat", AsyncMethodNames.MethodName("Heartbeat"));
        Assert.Equal("LoopQueue", AsyncMethodNames.TypeName(typeof(LoopQueue<int>)));
    }

    [Fact]
    public void A_snapshot_goes_to_json_and_back_unchanged()
    {
        Loops.Run(async loop =>
        {
            var sleeper = loop.Spawn(() => loop.Delay(TimeSpan.FromHours(1)).AsTask(), "sleeper \"quoted\"");
            await loop.Yield();
            var process = new ProcessSnapshot { ProcessId = 42, ProcessName = "test", Time = DateTimeOffset.UnixEpoch, Loops = [loop.TakeSnapshot()] };
            string json = process.ToJson();
            var back = ProcessSnapshot.Parse(json);
            Assert.Equal(json, back.ToJson());
            Assert.Equal("sleeper \"quoted\"", back.Loops[0].Tasks.Single(t => t.Id == sleeper.Id).Name);
            Assert.Throws<FormatException>(() => ProcessSnapshot.Parse("{\"pid\": 1}"));
            sleeper.Cancel();
        }, new EventLoopOptions { Diagnostics = true });
    }

    internal static void Spin(TimeSpan duration)
    {
        long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end) Thread.SpinWait(20);
    }
}

/// <summary>A logger factory that keeps what is logged, for tests.</summary>
internal sealed class ListLoggerFactory : ILoggerFactory
{
    private readonly List<(string Category, LogLevel Level, string Message)> _entries = [];

    public List<(string Category, LogLevel Level, string Message)> Entries
    {
        get { lock (_entries) return [.. _entries]; }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(ListLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (factory._entries) factory._entries.Add((category, logLevel, formatter(state, exception)));
        }
    }
}
