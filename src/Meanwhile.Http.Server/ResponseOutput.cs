using System.Runtime.CompilerServices;

namespace Meanwhile.Http.Server;

/// <summary>
/// The connection's output while it has a request (Kestrel's <c>Http1OutputProducer</c>): responses gather in one
/// pooled buffer and leave in one write, so every response a read produced goes out together; a write that waits for
/// a slow client runs the response-write timeout.
/// </summary>
/// <remarks>
/// Part of the <see cref="RequestState"/>, so an idle connection holds neither this nor its buffer. Its awaits use
/// <c>ConfigureAwait(false)</c> on the socket's own IValueTaskSource-backed write (see <see cref="ServerConnection"/>).
/// </remarks>
internal sealed class ResponseOutput(RequestState state)
{
    private const int KeptBytes = 4096;

    /// <summary>Response bytes not flushed yet; empty once the state goes back to the pool, which keeps a 4 KiB array with it.</summary>
    public PooledByteBuffer Buffer { get; } = new(KeptBytes);

    /// <summary>How many response bytes wait for a flush.</summary>
    public int Pending => Buffer.Length;

    /// <summary>Sends everything in the buffer in one write; waits while the client is slow (backpressure).</summary>
    public ValueTask FlushAsync() => FlushFromAsync(0);

    /// <summary>
    /// Sends the buffer (a file response's head) with MSG_MORE, right before the body leaves with sendfile on the same
    /// <paramref name="socket"/>: the kernel holds the head until the body's first bytes join it, so the response takes
    /// one TCP segment fewer (on loopback the server pays for the client's receive path too, and the client wakes
    /// once instead of twice); the body's last sendfile pushes everything. What the socket does not take at once, or
    /// an error, goes the usual way (<see cref="FlushAsync"/>).
    /// </summary>
    public unsafe ValueTask FlushAheadOfFileAsync(SocketStream socket)
    {
        int fd = socket.Descriptor, length = Buffer.Length;
        if (fd < 0 || length == 0) return FlushAsync();
        nint n;
        fixed (byte* head = Buffer.WrittenSpan)
            n = LinuxNative.send(fd, head, length, LinuxNative.MSG_NOSIGNAL | LinuxNative.MSG_MORE);
        if (n == length)
        {
            Sent();
            return ValueTask.CompletedTask;
        }
        return FlushFromAsync(n > 0 ? (int)n : 0);
    }

    private ValueTask FlushFromAsync(int start)
    {
        if (Buffer.Length == 0) return ValueTask.CompletedTask;
        var pending = state.Connection.Stream.WriteAsync(Buffer.WrittenMemory[start..]);
        if (pending.IsCompletedSuccessfully)
        {
            Sent();
            return ValueTask.CompletedTask;
        }
        return FlushSlowAsync(pending);
    }

    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder))]
    private async ValueTask FlushSlowAsync(ValueTask pending)
    {
        var connection = state.Connection;
        var before = state.Server.Timeouts.WriteStarted(connection);
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (SystemCallException)
        {
            // The client reset or left: the handler's token fires now (a handler that catches the write error and
            // waits on it would otherwise wait forever), and it is not reported as the handler's failure.
            connection.PeerFailed("the connection failed while a response was written");
            throw;
        }
        Sent();
        state.Server.Timeouts.WriteEnded(connection, before);
    }

    private void Sent()
    {
        ServerMetrics.BytesWritten.Add(Buffer.Length);
        Buffer.Clear();
        state.Connection.Mark(ServerMarks.ResponseSent);
    }

    /// <summary>Sends what is buffered without waiting for it (a timeout's answer, just before the close).</summary>
    public void SendNow()
    {
        var pending = state.Connection.Stream.WriteAsync(Buffer.WrittenMemory);
        Buffer.Clear();
        if (!pending.IsCompleted) _ = pending.AsTask();
    }

    /// <summary>Appends a bodiless error response that closes the connection.</summary>
    public void WriteErrorResponse(int status)
    {
        HttpHeadWriter.WriteStatusLine(Buffer, HttpProtocolVersion.Http11, status, HttpReasonPhrases.Get(status));
        Buffer.Write(state.Server.Date.Line);
        state.Server.WriteServerHeader(Buffer);
        Buffer.Write("Content-Length: 0\r\nConnection: close\r\n\r\n"u8);
    }

    /// <summary>Appends <c>100 Continue</c>: the client waits for it before it sends the body (RFC 9110 10.1.1).</summary>
    public void WriteContinue()
    {
        HttpHeadWriter.WriteStatusLine(Buffer, HttpProtocolVersion.Http11, 100, HttpReasonPhrases.Get(100));
        HttpHeadWriter.WriteEndOfHead(Buffer);
    }

    /// <summary>Gives the buffer's array back to the pool.</summary>
    public void Release() => Buffer.Release();

    /// <summary>Empties the buffer, keeping its array unless it grew beyond its first size (see <see cref="ServerResponse"/>'s buffers).</summary>
    public void Trim() => Buffer.Trim(KeptBytes);
}
