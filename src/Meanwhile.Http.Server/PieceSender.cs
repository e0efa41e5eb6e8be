using static Meanwhile.LinuxNative;

namespace Meanwhile.Http.Server;

/// <summary>
/// Sends one piece of a file to a client with sendfile(2) on the loop thread: at once while the socket takes it, else
/// waiting for writability, the whole piece within a timeout, past which the connection is closed (a client that
/// stopped reading must not hold a descriptor forever).
/// </summary>
internal static class PieceSender
{
    /// <summary>Sends bytes [<paramref name="offset"/>, +<paramref name="count"/>) of <paramref name="fd"/>; completes synchronously when the socket took them all.</summary>
    /// <param name="stream">The connection's stream, closed when the piece times out.</param>
    /// <param name="socket">The same connection as a socket: its descriptor for sendfile, its wait for room.</param>
    /// <param name="fd">The open file.</param>
    /// <param name="offset">Where the piece starts in the file.</param>
    /// <param name="count">The piece's length.</param>
    /// <param name="timeout">How long the piece may take once the socket is full.</param>
    /// <param name="request">The request (its target names the file in errors; its abort token ends the wait).</param>
    public static ValueTask SendAsync(DataStream stream, SocketStream socket, int fd, long offset, long count, TimeSpan timeout, ServerRequest request)
    {
        long position = offset, end = offset + count;
        if (SendUntilFull(socket, fd, ref position, end)) return ValueTask.CompletedTask;
        return WaitAndSendAsync(stream, socket, fd, position, end, count, timeout, request);
    }

    /// <summary>The rest of a piece, [<paramref name="position"/>, <paramref name="end"/>), once the socket was full: waits for room, under the timeout; <paramref name="count"/> is the length the timeout's error names.</summary>
    internal static async ValueTask WaitAndSendAsync(DataStream stream, SocketStream socket, int fd, long position, long end, long count, TimeSpan timeout, ServerRequest request)
    {
        // The client is slower than the file: a stalled one would hold the connection forever. Closing the socket
        // ends the wait (and makes the server drop the connection).
        bool stalled = false;
        var timer = EventLoop.Current.CallLater(timeout, () =>
        {
            stalled = true;
            // FIN first, as the server's own abort does: a bare close with a send pending can become a reset.
            try { stream.ShutdownWrite(); }
            catch (Exception e) when (e is SystemCallException or ObjectDisposedException or InvalidOperationException) { }
            stream.Dispose();
        });
        try
        {
            do
            {
                await socket.WaitWritableAsync(request.Aborted);
            }
            while (!SendUntilFull(socket, fd, ref position, end));
        }
        catch (Exception e) when (stalled)
        {
            throw new TimeoutException($"The client took no {count} bytes of {System.Text.Encoding.Latin1.GetString(request.Target)} within {timeout.TotalSeconds} s; the connection was closed.", e);
        }
        finally
        {
            timer.Cancel();
        }
    }

    /// <summary>sendfile until the range is sent (true) or the socket is full (false); throws if the file ended early.</summary>
    internal static bool SendUntilFull(SocketStream socket, int fd, ref long position, long end)
    {
        while (position < end)
        {
            int socketFd = socket.Descriptor;
            if (socketFd < 0) throw new ObjectDisposedException(socket.Description);
            nint n = SendFile(socketFd, fd, ref position, end - position); // advances position
            if (n > 0) continue;
            if (n == 0)
                throw new IOException($"The file ended at byte {position} while {end} were promised: it shrank while being sent; the connection was closed.");
            int errno = LastErrno;
            if (errno == Errno.EAGAIN) return false;
            if (errno != Errno.EINTR) throw SystemErrors.From("sendfile", errno, socket.Description);
        }
        return true;
    }
}
