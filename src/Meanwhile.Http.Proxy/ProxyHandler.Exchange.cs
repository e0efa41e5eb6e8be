using System.Buffers;
using System.Runtime.CompilerServices;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Proxy;

/// <summary>One exchange with one upstream: a connection, the request out, the response head in, the body relayed.</summary>
/// <remarks>
/// Awaits of the loop's own socket operations and of these pooled helpers use <c>ConfigureAwait(false)</c> (they
/// complete on the loop thread; see the server's connection); the connect, a <see cref="Task"/>, is awaited plainly.
/// </remarks>
public sealed partial class ProxyHandler
{
    // Body bytes buffered in the server's response before they are sent on (a relayed chunked or close-delimited body).
    private const int RelayFlushBytes = 32 * 1024;
    private const int UpstreamReadBufferBytes = 16 * 1024;
    private const int TransferBufferBytes = 64 * 1024;

    /// <summary>
    /// The request's whole way through the proxy, in one async frame: an upstream picked (another after a failure that
    /// allows it), a connection (kept-alive, or a new one; a connection of its own for an upgrade), the request out, the
    /// response head in, then the relay, or the tunnel after a 101.
    /// </summary>
    /// <remarks>
    /// One frame, not one per step: with 64 requests in flight, each frame waiting at once is a state machine box, and the
    /// pooled builder keeps about one box per core and method, so every nested frame cost an allocation per request.
    /// The send and the relay complete at once in the common case (no request body, a response body that came with its
    /// head) and are only awaited when they do not. The response head is waited for without a read buffer, which is
    /// rented once bytes are there: 64 requests in flight would otherwise hold 64 buffers besides the server's 64, more
    /// than the shared pool keeps.
    /// </remarks>
    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder))]
    private async ValueTask ForwardAsync(ServerRequest request, ServerResponse response, bool upgrade)
    {
        // Sent again on another upstream only when the repeat is harmless and possible: idempotent, no body to replay.
        bool resendable = !request.HasBody && IsIdempotent(request.Head.Method);
        Upstream? failed = null;
        int attempts = 0;
        while (true)
        {
            var upstream = _upstreams.Single ?? _upstreams.Pick(Now, failed);
            attempts++;
            upstream.Outstanding++;
            try
            {
                while (true)
                {
                    var connection = upgrade ? null : upstream.TakeIdle();
                    bool reused = connection is not null;
                    connection ??= await ConnectAsync(upstream);
                    bool keep = false;
                    try
                    {
                        var sending = SendRequestAsync(connection, request, upgrade);
                        if (!sending.IsCompletedSuccessfully) await sending.ConfigureAwait(false);

                        var input = connection.Input;
                        connection.Parser.SetRequestMethod(request.Head.Method);
                        bool any = false;
                        connection.Guard(_headDeadlines, UpstreamWait.ResponseHead);
                        try
                        {
                            while (!ParseHead(connection, any, upgrade))
                            {
                                if (!input.HasBuffer) await connection.Stream.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
                                int n = await connection.Stream.ReadAsync(input.GetReadMemory()).ConfigureAwait(false);
                                input.Advance(n);
                                any |= n > 0;
                            }
                        }
                        catch (Exception e) when (e is SystemCallException or ObjectDisposedException)
                        {
                            throw HeadFailure(connection, any, e);
                        }
                        finally
                        {
                            connection.Unguard();
                        }
                        upstream.Succeeded();

                        if (upgrade && connection.Parser.Head.StatusCode == 101)
                        {
                            SwitchToTunnel(connection, response);
                            connection = null; // the tunnel's now
                            return;
                        }
                        var relaying = RelayAsync(connection, response);
                        keep = (relaying.IsCompletedSuccessfully ? relaying.Result : await relaying.ConfigureAwait(false)) && !upgrade;
                        return;
                    }
                    catch (UpstreamException e) when (reused && !e.ResponseStarted && !request.HasBody
                        && e.Kind is UpstreamFailureKind.SendFailed or UpstreamFailureKind.ClosedBeforeResponse)
                    {
                        // A kept-alive connection the upstream had closed meanwhile: nothing was processed, so the request
                        // goes again on the next connection, whatever its method (as browsers and HttpClient do).
                    }
                    finally
                    {
                        if (keep)
                        {
                            connection!.Completed++;
                            connection.Input.Release();
                            upstream.ReturnIdle(connection, _options.MaxIdleConnectionsPerUpstream, _idleDeadlines);
                        }
                        else connection?.Close();
                    }
                }
            }
            catch (UpstreamException e)
            {
                if (!RetryAfter(e, upstream, response, resendable, attempts)) return;
                failed = upstream;
            }
            finally
            {
                upstream.Outstanding--;
            }
        }
    }

    private static UpstreamException HeadFailure(UpstreamConnection connection, bool any, Exception e)
    {
        var kind = connection.ExpiredWhile == UpstreamWait.ResponseHead ? UpstreamFailureKind.ResponseHeadTimedOut : UpstreamFailureKind.ClosedBeforeResponse;
        return new UpstreamException(kind, connection.Upstream, any, e);
    }

    private async Task<UpstreamConnection> ConnectAsync(Upstream upstream)
    {
        try
        {
            var stream = await SocketStream.ConnectAsync(upstream.Host, upstream.Port, _socketOptions);
            return new UpstreamConnection(upstream, stream, UpstreamReadBufferBytes);
        }
        catch (ConnectionTimedOutException e)
        {
            throw new UpstreamException(UpstreamFailureKind.ConnectTimedOut, upstream, responseStarted: false, e);
        }
        catch (IOException e)
        {
            // SystemCallException (ECONNREFUSED, EHOSTUNREACH...) and NameResolutionException are both IOExceptions.
            throw new UpstreamException(UpstreamFailureKind.ConnectFailed, upstream, responseStarted: false, e);
        }
    }

    /// <summary>Writes the head, and the body if any: a request without one leaves in one write, normally at once.</summary>
    private ValueTask SendRequestAsync(UpstreamConnection connection, ServerRequest request, bool upgrade)
    {
        var output = connection.Output;
        output.Clear();
        ForwardedRequestHead.Write(output, request, connection.Upstream, _options, _bytes, _clientAddress, upgrade);
        return request.HasBody ? SendBodyAsync(connection, request) : WriteOutputAsync(connection);
    }

    /// <summary>Streams the body after the head (re-chunked when the client chunked it); client read errors pass through untouched.</summary>
    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder))]
    private async ValueTask SendBodyAsync(UpstreamConnection connection, ServerRequest request)
    {
        var output = connection.Output;
        bool chunked = request.Head.ContentLength < 0;
        byte[] piece = ArrayPool<byte>.Shared.Rent(UpstreamReadBufferBytes);
        try
        {
            while (true)
            {
                // The head waits for the first piece, so a small body leaves with its head in one write.
                int n = await request.ReadAsync(piece);
                if (n == 0) break;
                if (chunked) HttpChunkedWriter.WriteChunk(output, piece.AsSpan(0, n));
                else output.Write(piece.AsSpan(0, n));
                await WriteOutputAsync(connection).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(piece);
        }
        if (chunked) HttpChunkedWriter.WriteLastChunk(output);
        if (output.Length > 0) await WriteOutputAsync(connection).ConfigureAwait(false);
    }

    /// <summary>Sends the output buffer; only a full socket makes it wait (under the body timeout).</summary>
    private ValueTask WriteOutputAsync(UpstreamConnection connection)
    {
        ValueTask pending;
        try
        {
            pending = connection.Stream.WriteAsync(connection.Output.WrittenMemory);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            return ValueTask.FromException(SendFailure(connection, e));
        }
        if (!pending.IsCompletedSuccessfully) return WriteOutputSlowAsync(connection, pending);
        connection.Output.Clear();
        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder))]
    private async ValueTask WriteOutputSlowAsync(UpstreamConnection connection, ValueTask pending)
    {
        try
        {
            if (!pending.IsCompleted)
            {
                connection.Guard(_bodyDeadlines, UpstreamWait.Body);
                try { await pending.ConfigureAwait(false); }
                finally { connection.Unguard(); }
            }
            else pending.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is SystemCallException or ObjectDisposedException or InvalidOperationException)
        {
            throw SendFailure(connection, e);
        }
        connection.Output.Clear();
    }

    private static UpstreamException SendFailure(UpstreamConnection connection, Exception e)
    {
        var kind = connection.ExpiredWhile == UpstreamWait.Body ? UpstreamFailureKind.BodyTimedOut : UpstreamFailureKind.SendFailed;
        return new UpstreamException(kind, connection.Upstream, responseStarted: false, e);
    }

    /// <summary>
    /// Parses what is buffered: true at a final response head, false when more bytes are needed; throws on a response
    /// that cannot be relayed. Interim responses are passed over; a 101 is final only for a request that asked to
    /// <paramref name="upgrade"/> (the bytes after it, <see cref="HttpInputReader.Unparsed"/>, are the tunnel's).
    /// </summary>
    private static bool ParseHead(UpstreamConnection connection, bool any, bool upgrade)
    {
        var input = connection.Input;
        while (input.Buffered > 0 || input.IsEndOfInput)
        {
            switch (input.Parse())
            {
                case HttpParseStatus.NeedMoreData:
                case HttpParseStatus.MessageComplete: // the end of an interim response
                    continue;
                case HttpParseStatus.HeadComplete when connection.Parser.Head.StatusCode == 101:
                    if (upgrade) return true;
                    throw new UpstreamException(UpstreamFailureKind.InvalidResponse, connection.Upstream, responseStarted: true);
                case HttpParseStatus.HeadComplete when connection.Parser.Head.IsInterim:
                    continue;
                case HttpParseStatus.HeadComplete when connection.Parser.Head.HasOtherTransferCoding:
                    throw new UpstreamException(UpstreamFailureKind.InvalidResponse, connection.Upstream, responseStarted: true);
                case HttpParseStatus.HeadComplete:
                    return true;
                default: // an error, or the end of the stream before a response
                    throw new UpstreamException(any ? UpstreamFailureKind.InvalidResponse : UpstreamFailureKind.ClosedBeforeResponse, connection.Upstream, any);
            }
        }
        return false;
    }

    /// <summary>
    /// Relays the head and body; returns whether the upstream connection can serve another request. A body that came
    /// whole with the head (a small response) is copied at once, with no async frame.
    /// </summary>
    private ValueTask<bool> RelayAsync(UpstreamConnection connection, ServerResponse response)
    {
        var head = connection.Parser.Head;
        bool keepAlive = head.KeepAlive; // read now: a streamed body resets the parser, and the head with it
        ForwardedResponseHead.Copy(head, response, _options, _bytes);
        switch (head.Framing)
        {
            case HttpBodyFraming.None:
                // HEAD keeps the length the upstream announced; 204 and 304 have none.
                if (head.ContentLength >= 0 && head.StatusCode is not (204 or 304)) response.ContentLength = head.ContentLength;
                break;
            case HttpBodyFraming.ContentLength:
                response.ContentLength = head.ContentLength;
                if (connection.Input.Buffered < head.ContentLength) return StreamBodyAsync(connection, response, head.ContentLength, keepAlive);
                break;
        }
        int unsent = 0;
        try
        {
            if (CopyBufferedBody(connection, response, ref unsent)) return new ValueTask<bool>(keepAlive && connection.Input.Buffered == 0);
        }
        catch (UpstreamException e)
        {
            return FailAfterHeadAsync(response, e);
        }
        return BufferBodyAsync(connection, response, unsent, keepAlive);
    }

    /// <summary>
    /// After the upstream's head was copied: the head is relayed even so, and the server then cuts the connection, so
    /// the client sees a response that ends short (a Content-Length unmet, a chunked body without its last chunk).
    /// </summary>
    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> FailAfterHeadAsync(ServerResponse response, UpstreamException failure)
    {
        if (!response.HasStarted) await response.FlushAsync();
        throw failure;
    }

    /// <summary>
    /// Copies the body bytes already read into the server's response: true once the message is complete, false when
    /// more must be read or <see cref="RelayFlushBytes"/> are waiting to be sent (<paramref name="unsent"/> counts them).
    /// </summary>
    private static bool CopyBufferedBody(UpstreamConnection connection, ServerResponse response, ref int unsent)
    {
        var input = connection.Input;
        IBufferWriter<byte> body = response;
        while (unsent < RelayFlushBytes)
        {
            switch (input.Parse())
            {
                case HttpParseStatus.Body:
                    int n = input.BodyAvailable;
                    input.TakeBody(body.GetSpan(n));
                    body.Advance(n);
                    unsent += n;
                    break;
                case HttpParseStatus.MessageComplete:
                    return true;
                case HttpParseStatus.NeedMoreData:
                    return false;
                default:
                    throw new UpstreamException(UpstreamFailureKind.BodyFailed, connection.Upstream, responseStarted: true);
            }
        }
        return false;
    }

    /// <summary>The rest of a body read through the parser (chunked, close-delimited, or longer than one read), sent on every <see cref="RelayFlushBytes"/>.</summary>
    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    private async ValueTask<bool> BufferBodyAsync(UpstreamConnection connection, ServerResponse response, int unsent, bool keepAlive)
    {
        var input = connection.Input;
        try
        {
            while (!CopyBufferedBody(connection, response, ref unsent))
            {
                if (unsent >= RelayFlushBytes)
                {
                    unsent = 0;
                    await response.FlushAsync();
                }
                else input.Advance(await ReadBodyAsync(connection, input.GetReadMemory()).ConfigureAwait(false));
            }
        }
        catch (UpstreamException)
        {
            if (!response.HasStarted) await response.FlushAsync(); // see FailAfterHeadAsync
            throw;
        }
        return keepAlive && input.Buffered == 0;
    }

    /// <summary>
    /// A body of known length that has not all arrived: the head goes out at once, then each read from the upstream is
    /// written straight to the client from one buffer (no copy through the response's buffers).
    /// </summary>
    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    private async ValueTask<bool> StreamBodyAsync(UpstreamConnection connection, ServerResponse response, long length, bool keepAlive)
    {
        var input = connection.Input;
        byte[]? transfer = null;
        try
        {
            var client = await response.StartRawBodyAsync(length);
            transfer = ArrayPool<byte>.Shared.Rent(TransferBufferBytes);
            long remaining = length;
            // What came with the head.
            while (input.Buffered > 0 && input.Parse() == HttpParseStatus.Body)
            {
                int n = input.TakeBody(transfer);
                remaining -= n;
                if (client is not null) await client.WriteAsync(transfer.AsMemory(0, n)).ConfigureAwait(false);
            }
            input.Release();
            // The rest, bypassing the parser: the length is known and nothing follows it on this connection.
            while (remaining > 0)
            {
                int n = await ReadBodyAsync(connection, transfer.AsMemory(0, (int)Math.Min(remaining, transfer.Length))).ConfigureAwait(false);
                if (n == 0) throw new UpstreamException(UpstreamFailureKind.BodyFailed, connection.Upstream, responseStarted: true);
                remaining -= n;
                if (client is not null) await client.WriteAsync(transfer.AsMemory(0, n)).ConfigureAwait(false);
            }
            connection.Parser.Reset(); // it still counts the body bytes it did not see
        }
        catch (UpstreamException)
        {
            if (!response.HasStarted) await response.FlushAsync(); // see FailAfterHeadAsync
            throw;
        }
        finally
        {
            if (transfer is not null) ArrayPool<byte>.Shared.Return(transfer);
        }
        return keepAlive;
    }

    /// <summary>One read of body bytes from the upstream under the body timeout; 0 at the end of its stream.</summary>
    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadBodyAsync(UpstreamConnection connection, Memory<byte> into)
    {
        try
        {
            var pending = connection.Stream.ReadAsync(into);
            if (pending.IsCompleted) return pending.GetAwaiter().GetResult();
            connection.Guard(_bodyDeadlines, UpstreamWait.Body);
            try { return await pending.ConfigureAwait(false); }
            finally { connection.Unguard(); }
        }
        catch (Exception e) when (e is SystemCallException or ObjectDisposedException)
        {
            var kind = connection.ExpiredWhile == UpstreamWait.Body ? UpstreamFailureKind.BodyTimedOut : UpstreamFailureKind.BodyFailed;
            throw new UpstreamException(kind, connection.Upstream, responseStarted: true, e);
        }
    }
}
