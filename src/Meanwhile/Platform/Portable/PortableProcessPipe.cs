using System.Runtime.CompilerServices;

namespace Meanwhile;

/// <summary>
/// A stream over a .NET <see cref="Stream"/> for the portable reactor (a child process's pipe). Its async operations
/// complete on .NET's threads; awaiting them from loop code brings the continuation back through the loop's
/// SynchronizationContext, and each pending operation counts as a wait on the outside world.
/// </summary>
internal sealed class PortableProcessPipe(EventLoop loop, Stream stream, string description) : PlatformStream
{
    public override string Description => description;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        using var wait = PortableWait.Begin(loop, cancellationToken, out var token);
        try
        {
            return await stream.ReadAsync(buffer, token);
        }
        catch (IOException e) when (e is not SystemCallException) { throw Translate("read", e); }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(Description); }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var wait = PortableWait.Begin(loop, cancellationToken, out var token);
        try
        {
            await stream.WriteAsync(data, token);
        }
        catch (IOException e) when (e is not SystemCallException) { throw Translate("write", e); }
        catch (ObjectDisposedException) { throw new ObjectDisposedException(Description); }
    }

    /// <summary>A pipe has one direction: ending the write side means closing it.</summary>
    public override void ShutdownWrite() => stream.Dispose();

    public override async ValueTask CloseAsync() => await stream.DisposeAsync();

    /// <summary>
    /// .NET reports a pipe's errors as an IOException wrapping the SocketException of the socket it drives the pipe
    /// with on Unix (EPIPE shows as SocketError.Shutdown), or carrying the errno as HResult; the one errno mapping
    /// turns either into the same typed exception as on epoll.
    /// </summary>
    private Exception Translate(string call, IOException e) => e switch
    {
        { InnerException: System.Net.Sockets.SocketException socketError } => SystemErrors.From(call, socketError, Description),
        { HResult: > 0 and < 4096 } when !OperatingSystem.IsWindows() => SystemErrors.From(call, e.HResult, Description),
        _ => e,
    };
}
