using System.Net;
using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A whole networked program in one process, on one thread, on virtual time: hosts with names and addresses, each
/// running an async entry point, joined by a simulated network that can be made hostile (latency, bandwidth, loss,
/// duplication, reordering, partitions, held traffic, crashes). Every choice comes from the seed, so the same seed
/// gives the same run, event for event: <see cref="SimulationResult.TraceHash"/> proves it, and a failure prints the
/// command that replays it. The code under test is the real code: streams, listeners, the HTTP server and client
/// reach the simulated network through the loop's platform backend, unchanged.
/// </summary>
/// <remarks>
/// <para>
/// The test's own code runs on the client host (<see cref="Client"/>, 10.0.0.1); <see cref="AddHost(string, Func{CancellationToken, Task})"/>
/// numbers the others from 10.0.0.2. Names resolve inside the simulation. Fault methods are for the loop thread: call
/// them from the client's code (after a <see cref="EventLoop.Delay"/>, say) or from a host's.
/// </para>
/// <para>
/// Setting the environment variable <c>MEANWHILE_SIMULATION_SEED</c> replaces every seed given to the constructor: the
/// replay command of a failed run sets it.
/// </para>
/// </remarks>
public sealed class Simulation
{
    /// <summary>The environment variable that overrides the seed (for replaying a failed run).</summary>
    public const string SeedVariable = "MEANWHILE_SIMULATION_SEED";

    private static readonly AsyncLocal<SimulatedHost?> HostOfRunningCode = new();

    private readonly SimulatedNetwork _network;
    private bool _ran;

    /// <summary>Creates a simulation whose every choice follows from <paramref name="seed"/>.</summary>
    /// <param name="seed">The seed (overridden by <see cref="SeedVariable"/> when it is set).</param>
    /// <param name="options">Deadline, default link, buffers; null for the defaults.</param>
    public Simulation(long seed, SimulationOptions? options = null)
    {
        Seed = long.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out long forced) ? forced : seed;
        Options = options ?? new SimulationOptions();
        _network = new SimulatedNetwork(Seed, Options);
        Client = new SimulatedHost(_network, 0, "client", IPAddress.Parse("10.0.0.1"), null);
        _network.Add(Client);
    }

    /// <summary>The seed this run follows.</summary>
    public long Seed { get; }

    /// <summary>How the simulation is set up.</summary>
    public SimulationOptions Options { get; }

    /// <summary>The host the test's own code (<see cref="Run"/>'s client) runs on.</summary>
    public SimulatedHost Client { get; }

    /// <summary>Every host, the client first.</summary>
    public IReadOnlyList<SimulatedHost> Hosts => _network.Hosts;

    /// <summary>The host whose code is running (null outside a simulation).</summary>
    public static SimulatedHost? CurrentHost => HostOfRunningCode.Value;

    /// <summary>Virtual time since the run began.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(_network.Now);

    /// <summary>Adds a host with the next free address (10.0.0.2, 10.0.0.3, ...).</summary>
    /// <param name="name">Its name, which the other hosts resolve.</param>
    /// <param name="entryPoint">Its program, started when the run starts and at each restart; the token ends with the host.</param>
    public SimulatedHost AddHost(string name, Func<CancellationToken, Task> entryPoint)
    {
        int n = _network.Hosts.Count + 1;
        return AddHost(name, new IPAddress([10, (byte)(n >> 16), (byte)(n >> 8), (byte)n]), entryPoint);
    }

    /// <summary>Adds a host with the address <paramref name="address"/>.</summary>
    /// <param name="name">Its name, which the other hosts resolve.</param>
    /// <param name="address">Its address.</param>
    /// <param name="entryPoint">Its program, started when the run starts and at each restart.</param>
    public SimulatedHost AddHost(string name, IPAddress address, Func<CancellationToken, Task> entryPoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(entryPoint);
        if (_ran) throw new InvalidOperationException("Hosts are added before the run.");
        var host = new SimulatedHost(_network, _network.Hosts.Count, name, address, entryPoint);
        _network.Add(host);
        return host;
    }

    /// <summary>
    /// Runs the simulation: starts every host, runs <paramref name="client"/> on the client host, and returns when it
    /// has finished or when <see cref="SimulationOptions.Deadline"/> (virtual) has passed; then cancels what still runs.
    /// </summary>
    /// <param name="client">The test's code.</param>
    /// <param name="caller">Filled in by the compiler: names the test in the replay command.</param>
    /// <param name="callerFile">Filled in by the compiler: finds the test's project for the replay command.</param>
    /// <exception cref="SimulationFailedException">The client threw; the message gives the seed and the replay command.</exception>
    public SimulationResult Run(Func<Task> client, [CallerMemberName] string caller = "", [CallerFilePath] string callerFile = "")
    {
        ArgumentNullException.ThrowIfNull(client);
        if (_ran) throw new InvalidOperationException("A simulation runs once: make another from the same seed to replay it.");
        _ran = true;
        var clock = new VirtualClock();
        var errors = new List<LoopError>();
        using var loop = new EventLoop(new EventLoopOptions
        {
            TimeProvider = clock,
            Backend = l => new SimulatedBackend(l, _network),
            OnError = errors.Add,
            ShutdownGracePeriod = TimeSpan.FromSeconds(30),
        });
        _network.Attach(loop);
        bool completed = false;
        Exception? failure = null;
        loop.RunUntilComplete(async () =>
        {
            foreach (var host in _network.Hosts)
                if (!ReferenceEquals(host, Client)) Start(host);
            var task = StartOn(Client, _ => client());
            bool deadlinePassed = false;
            var deadline = loop.CallLater(Options.Deadline, () =>
            {
                deadlinePassed = true;
                task.Cancel();
            });
            try
            {
                await task;
                completed = true;
            }
            catch (OperationCanceledException) when (deadlinePassed) { }
            catch (Exception e) { failure = e; }
            deadline.Cancel();
        });
        if (failure is not null) throw new SimulationFailedException(Seed, ReplayCommand(Seed, caller, callerFile), failure);
        return new SimulationResult(Seed, _network.Trace.Hash, _network.Trace.Count, clock.Elapsed, completed, errors);
    }

    /// <summary>Cuts the link between <paramref name="a"/> and <paramref name="b"/>: what crosses it is lost (streams retransmit) until <see cref="Repair"/>.</summary>
    /// <param name="a">A host's name.</param>
    /// <param name="b">Another host's name.</param>
    public void Partition(string a, string b) => Fault("partition", a, b, link => link.Partitioned = true);

    /// <summary>Ends a partition between <paramref name="a"/> and <paramref name="b"/>.</summary>
    /// <param name="a">A host's name.</param>
    /// <param name="b">Another host's name.</param>
    public void Repair(string a, string b) => Fault("repair", a, b, link => link.Partitioned = false);

    /// <summary>Keeps everything that arrives over the link between <paramref name="a"/> and <paramref name="b"/> until <see cref="Release"/>.</summary>
    /// <param name="a">A host's name.</param>
    /// <param name="b">Another host's name.</param>
    public void Hold(string a, string b) => Fault("hold", a, b, link => link.Hold());

    /// <summary>Delivers what the link held, now, in the order it came, and stops holding.</summary>
    /// <param name="a">A host's name.</param>
    /// <param name="b">Another host's name.</param>
    public void Release(string a, string b) => Fault("release", a, b, _network.Release);

    /// <summary>Changes how the link between <paramref name="a"/> and <paramref name="b"/> behaves from now on.</summary>
    /// <param name="a">A host's name.</param>
    /// <param name="b">Another host's name.</param>
    /// <param name="options">Latency, bandwidth, loss, duplication, reordering.</param>
    public void SetLink(string a, string b, LinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Fault("set-link", a, b, link => link.Options = options);
    }

    /// <summary>
    /// Crashes <paramref name="host"/>: its tasks are cancelled, its sockets and listeners vanish, its peers get resets,
    /// and nothing reaches it until <see cref="Restart"/>.
    /// </summary>
    /// <param name="host">A host's name (not the client's).</param>
    public void Crash(string host)
    {
        var target = ServerHost(host);
        if (!target.IsUp) return;
        target.IsUp = false;
        _network.RecordFault("crash", target, null);
        target.Task?.Cancel();
        // In the order of their ids, so that the resets a crash sends follow from the seed alone.
        foreach (var resource in target.Resources.ToArray()) resource.Crash();
    }

    /// <summary>Starts a crashed host again: its entry point runs afresh.</summary>
    /// <param name="host">A host's name (not the client's).</param>
    public void Restart(string host)
    {
        var target = ServerHost(host);
        if (target.IsUp) throw new InvalidOperationException($"Host '{host}' is running; crash it first.");
        target.IsUp = true;
        _network.RecordFault("restart", target, null);
        Start(target);
    }

    private SimulatedHost ServerHost(string name)
    {
        _network.Loop.CheckThread();
        var host = _network.Host(name);
        if (ReferenceEquals(host, Client)) throw new ArgumentException("The client host runs the test itself; it cannot crash.", nameof(name));
        return host;
    }

    private void Fault(string what, string a, string b, Action<SimulatedLink> apply)
    {
        var first = _network.Host(a);
        var second = _network.Host(b);
        if (ReferenceEquals(first, second)) throw new ArgumentException("A host's link to itself (loopback) cannot be changed.", nameof(b));
        if (_ran) _network.Loop.CheckThread();
        apply(_network.Link(first, second));
        _network.RecordFault(what, first, second);
    }

    private void Start(SimulatedHost host) => StartOn(host, host.EntryPoint!);

    /// <summary>Spawns <paramref name="work"/> as the host's task, under the loop's root so that no other task waits for it.</summary>
    private LoopTask StartOn(SimulatedHost host, Func<CancellationToken, Task> work)
    {
        var loop = _network.Loop;
        var previous = HostOfRunningCode.Value;
        HostOfRunningCode.Value = host; // the task's execution context carries its host into every await and spawn
        try
        {
            host.Incarnation++;
            host.Task = loop.Schedule(new LoopTask(loop, loop.RootScope, work, $"{host.Name}#{host.Incarnation}"));
            return host.Task;
        }
        finally
        {
            HostOfRunningCode.Value = previous;
        }
    }

    /// <summary>The one command that replays a run of <paramref name="seed"/>: the test's project (by its full path), filtered to the test, with the seed forced.</summary>
    private static string ReplayCommand(long seed, string caller, string callerFile)
    {
        string? project = null;
        for (var dir = Path.GetDirectoryName(callerFile); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(dir) && Directory.EnumerateFiles(dir, "*.csproj").Any())
            {
                project = dir;
                break;
            }
        }
        return $"{SeedVariable}={seed} dotnet test {project ?? "."} --filter \"FullyQualifiedName~{caller}\"";
    }
}
