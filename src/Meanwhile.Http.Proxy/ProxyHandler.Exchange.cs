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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ExchangeAsync(Upstream upstream, ServerRequest request, ServerResponse response)
    {
        while (true)
        {
            var connection = upstream.TakeIdle();
            bool reused = connection is not null;
            connection ??= await ConnectAsync(upstream);
            bool keep = false;
            try
            {
                await SendRequestAsync(connection, request).ConfigureAwait(false);
                await ReadHeadAsync(connection, request).ConfigureAwait(false);
                upstream.Succeeded();
                keep = await RelayAsync(connection, response).ConfigureAwait(false);
                return;
            }
            catch (UpstreamException e) when (reused && !e.ResponseStarted && !request.HasBody
                && e.Kind is UpstreamFailureKind.SendFailed or UpstreamFailureKind.ClosedBeforeResponse)
            {
                // A kept-alive connection the upstream had closed meanwhile: nothing was processed, so the request goes
                // again on the next connection, whatever its method (as browsers and HttpClient do).
            }
            finally
            {
                if (keep)
                {
                    connection.Completed++;
                    connection.Input.Release();
                    upstream.ReturnIdle(connection, _options.MaxIdleConnectionsPerUpstream, _idleDeadlines);
                }
                else connection.Close();
            }
        }
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

    /// <summary>Writes the head and streams the body (re-chunked when the client chunked it); client read errors pass through untouched.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendRequestAsync(UpstreamConnection connection, ServerRequest request)
    {
        var output = connection.Output;
        output.Clear();
        ForwardedRequestHead.Write(output, request, connection.Upstream, _options, _bytes);
        if (!request.HasBody)
        {
            await WriteOutputAsync(connection).ConfigureAwait(false);
            return;
        }
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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteOutputAsync(UpstreamConnection connection)
    {
        try
        {
            var pending = connection.Stream.WriteAsync(connection.Output.WrittenMemory);
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
            var kind = connection.ExpiredWhile == UpstreamWait.Body ? UpstreamFailureKind.BodyTimedOut : UpstreamFailureKind.SendFailed;
            throw new UpstreamException(kind, connection.Upstream, responseStarted: false, e);
        }
        connection.Output.Clear();
    }

    /// <summary>Reads until a final response head (interim 1xx responses are passed over).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadHeadAsync(UpstreamConnection connection, ServerRequest request)
    {
        var input = connection.Input;
        connection.Parser.SetRequestMethod(request.Head.Method);
        bool any = false;
        connection.Guard(_headDeadlines, UpstreamWait.ResponseHead);
        try
        {
            while (true)
            {
                if (input.Buffered == 0)
                {
                    int n = await connection.Stream.ReadAsync(input.GetReadMemory()).ConfigureAwait(false);
                    input.Advance(n);
                    any |= n > 0;
                }
                switch (input.Parse())
                {
                    case HttpParseStatus.NeedMoreData:
                    case HttpParseStatus.MessageComplete: // the end of an interim response
                        continue;
                    case HttpParseStatus.HeadComplete when connection.Parser.Head.StatusCode == 101:
                        throw new UpstreamException(UpstreamFailureKind.InvalidResponse, connection.Upstream, responseStarted: true);
                    case HttpParseStatus.HeadComplete when connection.Parser.Head.IsInterim:
                        continue;
                    case HttpParseStatus.HeadComplete when connection.Parser.Head.HasOtherTransferCoding:
                        throw new UpstreamException(UpstreamFailureKind.InvalidResponse, connection.Upstream, responseStarted: true);
                    case HttpParseStatus.HeadComplete:
                        return;
                    default: // an error, or the end of the stream before a response
                        throw new UpstreamException(any ? UpstreamFailureKind.InvalidResponse : UpstreamFailureKind.ClosedBeforeResponse, connection.Upstream, any);
                }
            }
        }
        catch (Exception e) when (e is SystemCallException or ObjectDisposedException)
        {
            var kind = connection.ExpiredWhile == UpstreamWait.ResponseHead ? UpstreamFailureKind.ResponseHeadTimedOut : UpstreamFailureKind.ClosedBeforeResponse;
            throw new UpstreamException(kind, connection.Upstream, any, e);
        }
        finally
        {
            connection.Unguard();
        }
    }

    /// <summary>Relays the head and body; returns whether the upstream connection can serve another request.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> RelayAsync(UpstreamConnection connection, ServerResponse response)
    {
        var head = connection.Parser.Head;
        bool keepAlive = head.KeepAlive; // read now: a streamed body resets the parser, and the head with it
        ForwardedResponseHead.Copy(head, response, _options, _bytes);
        try
        {
            switch (head.Framing)
            {
                case HttpBodyFraming.None:
                    // HEAD keeps the length the upstream announced; 204 and 304 have none.
                    if (head.ContentLength >= 0 && head.StatusCode is not (204 or 304)) response.ContentLength = head.ContentLength;
                    await BufferBodyAsync(connection, response).ConfigureAwait(false);
                    break;
                case HttpBodyFraming.ContentLength:
                    response.ContentLength = head.ContentLength;
                    if (connection.Input.Buffered >= head.ContentLength) await BufferBodyAsync(connection, response).ConfigureAwait(false);
                    else await StreamBodyAsync(connection, response, head.ContentLength).ConfigureAwait(false);
                    break;
                default:
                    await BufferBodyAsync(connection, response).ConfigureAwait(false);
                    break;
            }
        }
        catch (UpstreamException)
        {
            // The upstream's head is relayed even so, and the server then cuts the connection: the client sees a
            // response that ends short (a Content-Length unmet, a chunked body without its last chunk).
            if (!response.HasStarted) await response.FlushAsync();
            throw;
        }
        return keepAlive && connection.Input.Buffered == 0;
    }

    /// <summary>Copies the body through the server's response buffer, sending it on every <see cref="RelayFlushBytes"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask BufferBodyAsync(UpstreamConnection connection, ServerResponse response)
    {
        var input = connection.Input;
        IBufferWriter<byte> body = response;
        int unsent = 0;
        while (true)
        {
            switch (input.Parse())
            {
                case HttpParseStatus.Body:
                    int n = input.BodyAvailable;
                    input.TakeBody(body.GetSpan(n));
                    body.Advance(n);
                    unsent += n;
                    if (unsent >= RelayFlushBytes)
                    {
                        unsent = 0;
                        await response.FlushAsync();
                    }
                    break;
                case HttpParseStatus.MessageComplete:
                    return;
                case HttpParseStatus.NeedMoreData:
                    input.Advance(await ReadBodyAsync(connection, input.GetReadMemory()).ConfigureAwait(false));
                    break;
                default:
                    throw new UpstreamException(UpstreamFailureKind.BodyFailed, connection.Upstream, responseStarted: true);
            }
        }
    }

    /// <summary>
    /// A body of known length that has not all arrived: the head goes out at once, then each read from the upstream is
    /// written straight to the client from one buffer (no copy through the response's buffers).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask StreamBodyAsync(UpstreamConnection connection, ServerResponse response, long length)
    {
        var input = connection.Input;
        var client = await response.StartRawBodyAsync(length);
        byte[] transfer = ArrayPool<byte>.Shared.Rent(TransferBufferBytes);
        try
        {
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
        finally
        {
            ArrayPool<byte>.Shared.Return(transfer);
        }
    }

    /// <summary>One read of body bytes from the upstream under the body timeout; 0 at the end of its stream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
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
