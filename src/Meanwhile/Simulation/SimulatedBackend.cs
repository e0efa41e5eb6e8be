using System.Net;
using System.Net.Sockets;

namespace Meanwhile;

/// <summary>
/// The backend of a <see cref="Simulation"/>'s loop: sockets, listeners, datagrams, pipes and name resolution in memory,
/// on the simulated network, for the host whose code is calling. Files and child processes are not simulated: they fail
/// with <see cref="PlatformNotSupportedException"/> rather than touch the real machine and break replay.
/// </summary>
internal sealed class SimulatedBackend(EventLoop loop, SimulatedNetwork network) : PlatformBackend(loop)
{
    private readonly SimulatedPoller _poller = new();

    public override string Name => "simulated";

    public override Poller Poller => _poller;

    /// <summary>The host whose code runs now (the client host's, for code outside every host).</summary>
    private SimulatedHost Caller => Simulation.CurrentHost ?? network.Hosts[0];

    /// <summary>Blocking work runs on the loop thread itself, a turn later: no thread, so no order the seed does not decide.</summary>
    public override void QueueWorker(IThreadPoolWorkItem work) =>
        Loop.EnqueueReady(new ReadyItem(static w => ((IThreadPoolWorkItem)w!).Execute(), work));

    public override Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        network.Resolve(host) is { } addresses ? Task.FromResult(addresses) : Task.FromException<IPAddress[]>(new NameResolutionException(host, null));

    public override ValueTask<SocketStream> ConnectAsync(EndPoint endpoint, SocketStreamOptions options, CancellationToken cancellationToken) =>
        SimulatedSocketStream.ConnectAsync(network, Caller, endpoint, cancellationToken);

    // A name resolves at once, to one address: the connect itself, with no async layer for a resolution and a loop over
    // addresses (a simulated client opening ten thousand connections pays for neither).
    public override ValueTask<SocketStream> ConnectAsync(string host, int port, SocketStreamOptions options, CancellationToken cancellationToken) =>
        network.ResolveOne(host) is { } address
            ? SimulatedSocketStream.ConnectAsync(network, Caller, network.EndPointFor(address, port), cancellationToken)
            : base.ConnectAsync(host, port, options, cancellationToken);

    public override PlatformListener Listen(EndPoint endpoint, ListenOptions options) => SimulatedListener.Listen(network, Caller, endpoint, options);

    public override PlatformDatagramSocket OpenDatagram(AddressFamily family) => new SimulatedDatagramSocket(network, Caller, family);

    public override (DataStream Reader, DataStream Writer) CreatePipe()
    {
        var (reader, writer) = SimulatedSocketStream.Pair(network, Caller);
        writer.ShutdownRead();
        return (new DataStream(Loop, reader), new DataStream(Loop, writer));
    }

    public override PlatformProcess StartProcess(ProcessStartRequest request) => throw NotSimulated("starting a child process");

    public override Task<DataStream> OpenAsync(string path, FileAccess access, CancellationToken cancellationToken) =>
        Task.FromException<DataStream>(NotSimulated($"opening '{path}'"));

    public override Task<FileDataStream> OpenFileAsync(string path, FileMode mode, FileAccess access, CancellationToken cancellationToken) =>
        Task.FromException<FileDataStream>(NotSimulated($"opening the file '{path}'"));

    public override Task<FileDataStream> OpenFileBeneathAsync(string directory, string relativePath, CancellationToken cancellationToken) =>
        Task.FromException<FileDataStream>(NotSimulated($"opening the file '{relativePath}' in '{directory}'"));

    public override DataStream OpenStandardStream(int fd) => throw NotSimulated($"opening {StandardStreamNames[fd]}");

    private static PlatformNotSupportedException NotSimulated(string what) =>
        new($"A simulation has no disk, processes or console yet: {what} would reach the real machine and break replay. Keep it outside the simulated hosts.");
}

/// <summary>
/// The simulation's poller: nothing to poll, since the network's events are loop timers. It only sleeps when the loop
/// waits on something outside the simulation (a real <see cref="Task"/>), until that posts back.
/// </summary>
internal sealed class SimulatedPoller : Poller
{
    private readonly AutoResetEvent _wake = new(false);

    public override void Poll(int timeoutMilliseconds)
    {
        if (timeoutMilliseconds != 0) _wake.WaitOne(timeoutMilliseconds);
    }

    public override void Wake() => _wake.Set();

    public override void Dispose() => _wake.Dispose();
}
