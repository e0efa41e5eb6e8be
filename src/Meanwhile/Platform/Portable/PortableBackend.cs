using System.Net;
using System.Net.Sockets;

namespace Meanwhile;

/// <summary>
/// The backend for platforms without epoll (and for tests on Linux, with <c>MEANWHILE_REACTOR=portable</c>): .NET's
/// own sockets, set non-blocking and waited on by the loop thread in select (<see cref="SelectPoller"/>), and .NET's
/// processes. On Linux, paths, pipes and devices are opened with the same system calls as on epoll and served by worker
/// threads (nothing here watches raw descriptors); other systems have no backend for them yet.
/// </summary>
internal sealed class PortableBackend(EventLoop loop) : PlatformBackend(loop)
{
    private readonly SelectPoller _poller = new(loop);

    public override string Name => "portable";

    public override Poller Poller => _poller;

    public override ValueTask<SocketStream> ConnectAsync(EndPoint endpoint, SocketStreamOptions options, CancellationToken cancellationToken) =>
        PortableSockets.ConnectAsync(Loop, _poller, endpoint, options, cancellationToken);

    public override PlatformListener Listen(EndPoint endpoint, ListenOptions options) => PortableSockets.Listen(Loop, _poller, endpoint, options);

    public override PlatformDatagramSocket OpenDatagram(AddressFamily family) => new PortableDatagramSocket(_poller, family);

    public override PlatformProcess StartProcess(ProcessStartRequest request) => PortableProcess.Start(Loop, request);

    public override Task<DataStream> OpenAsync(string path, FileAccess access, CancellationToken cancellationToken) =>
        LinuxPaths.OpenAsync(Loop, CheckLinux(path), access, cancellationToken);

    public override Task<FileDataStream> OpenFileAsync(string path, FileMode mode, FileAccess access, CancellationToken cancellationToken) =>
        LinuxPaths.OpenFileAsync(Loop, CheckLinux(path), mode, access, cancellationToken);

    public override Task<FileDataStream> OpenFileBeneathAsync(string directory, string relativePath, CancellationToken cancellationToken) =>
        LinuxPaths.OpenFileBeneathAsync(Loop, CheckLinux(directory), relativePath, cancellationToken);

    public override (DataStream Reader, DataStream Writer) CreatePipe()
    {
        CheckLinux("a pipe");
        return LinuxPaths.CreatePipe(Loop);
    }

    public override DataStream OpenStandardStream(int fd)
    {
        var stream = fd switch
        {
            0 => Console.OpenStandardInput(),
            1 => Console.OpenStandardOutput(),
            _ => Console.OpenStandardError(),
        };
        return new DataStream(Loop, new ConsoleStandardStream(Loop, stream, $"{StandardStreamNames[fd]} (console stream)"));
    }

    private static string CheckLinux(string what)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException($"Opening {what}: files, pipes and devices as data streams need Linux for now.");
        return what;
    }
}
