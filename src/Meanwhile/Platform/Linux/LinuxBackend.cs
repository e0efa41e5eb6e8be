using System.Net;
using System.Net.Sockets;

namespace Meanwhile;

/// <summary>
/// The epoll backend: non-blocking descriptors and raw system calls, every completion on the loop thread. Sockets,
/// pipes, FIFOs, terminals and pollable devices are watched by <see cref="EpollPoller"/>; regular files and devices
/// epoll refuses go to worker threads (<see cref="BlockingDescriptorStream"/>); child processes are spawned with
/// posix_spawn and watched through a pidfd.
/// </summary>
internal sealed class LinuxBackend(EventLoop loop) : PlatformBackend(loop)
{
    private readonly EpollPoller _poller = new(loop);

    public override string Name => "epoll";

    public override Poller Poller => _poller;

    public override ValueTask<SocketStream> ConnectAsync(EndPoint endpoint, SocketStreamOptions options, CancellationToken cancellationToken) =>
        LinuxSockets.ConnectAsync(Loop, endpoint, options, cancellationToken);

    public override PlatformListener Listen(EndPoint endpoint, ListenOptions options) => LinuxSockets.Listen(Loop, endpoint, options);

    public override PlatformDatagramSocket OpenDatagram(AddressFamily family) => PolledDatagramSocket.Open(Loop, family);

    public override PlatformProcess StartProcess(ProcessStartRequest request) => SpawnedProcess.Start(Loop, request);

    public override Task<DataStream> OpenAsync(string path, FileAccess access, CancellationToken cancellationToken) =>
        LinuxPaths.OpenAsync(Loop, path, access, cancellationToken);

    public override Task<FileDataStream> OpenFileAsync(string path, FileMode mode, FileAccess access, CancellationToken cancellationToken) =>
        LinuxPaths.OpenFileAsync(Loop, path, mode, access, cancellationToken);

    public override Task<FileDataStream> OpenFileBeneathAsync(string directory, string relativePath, CancellationToken cancellationToken) =>
        LinuxPaths.OpenFileBeneathAsync(Loop, directory, relativePath, cancellationToken);

    public override (DataStream Reader, DataStream Writer) CreatePipe() => LinuxPaths.CreatePipe(Loop);

    public override DataStream OpenStandardStream(int fd) => LinuxStandardStreams.Open(Loop, fd);
}
