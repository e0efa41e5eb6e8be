using System.Runtime.CompilerServices;

namespace Meanwhile.Http.Server;

/// <summary>
/// The request body as the handler reads it (Kestrel's <c>Http1MessageBody</c>): body bytes straight from the read
/// buffer, the socket read when it is empty, <c>100 Continue</c> sent when the handler first waits for a body the client
/// holds back, the time spent waiting that the minimum data rate is judged on, and, once the handler is done, the rest
/// drained so that the next request starts where it should.
/// </summary>
/// <remarks>Part of the <see cref="RequestState"/>: its per-request fields cost an idle connection nothing.</remarks>
internal sealed class RequestBodyReader(RequestState state)
{
    private bool _complete;
    private bool _continuePending;
    private bool _handlerDone;
    private bool _waiting;
    private long _waitedTicks;
    private long _waitStart;

    /// <summary>True once the whole body has been parsed (or there is none).</summary>
    public bool IsComplete => _complete;

    /// <summary>True while <c>100 Continue</c> is owed: the client holds the body back until it comes.</summary>
    public bool ContinuePending => _continuePending;

    /// <summary>Time spent waiting for body bytes (loop clock ticks), the current wait included.</summary>
    public long WaitedTicks(long now) => _waitedTicks + (_waiting ? now - _waitStart : 0);

    /// <summary>Starts a request whose head is complete.</summary>
    public void Begin(HttpRequestHead head)
    {
        _complete = false;
        _handlerDone = false;
        _waitedTicks = 0;
        state.Input.DiscardBody();
        // Sent when the handler first waits for body bytes the client has not sent (see WaitForBytesAsync).
        _continuePending = head.ExpectsContinue && head.HasBody && state.Input.Buffered == 0;
    }

    /// <summary>The handler has returned: its reads are over.</summary>
    public void End() => _handlerDone = true;

    /// <summary>True after the handler returned: data that arrives now is the next request's.</summary>
    public bool HandlerDone => _handlerDone;

    /// <summary>Body bytes for the handler: straight from the read buffer, reading the socket when it is empty.</summary>
    public ValueTask<int> ReadAsync(Memory<byte> destination)
    {
        if (_handlerDone) throw new InvalidOperationException("The request body can only be read while its handler runs.");
        if (state.Input.BodyAvailable > 0 && !destination.IsEmpty) return new ValueTask<int>(state.Input.TakeBody(destination.Span));
        if (_complete) return new ValueTask<int>(0);
        return ReadCoreAsync(destination, discard: false);
    }

    /// <summary>Whether what the handler left of the body can be read past; otherwise the connection closes after the response.</summary>
    public bool CanDrain(HttpRequestHead head)
    {
        if (_complete || !head.HasBody) return true;
        if (DrainBuffered()) return true;
        if (head.Framing == HttpBodyFraming.ContentLength)
            return head.ContentLength - state.Parser.BodyBytesReceived + state.Input.BodyAvailable <= state.Server.Options.MaxDrainBytes;
        return false; // chunked: unknown remainder; reading it could take any time
    }

    /// <summary>Discards the body bytes already received, without reading the socket; true once the message is complete.</summary>
    private bool DrainBuffered()
    {
        state.Input.DiscardBody();
        while (!_complete)
        {
            var status = state.Input.Parse();
            if (status == HttpParseStatus.MessageComplete) _complete = true;
            else if (status != HttpParseStatus.Body) return false; // needs more bytes, or the body is malformed: close after the response
            state.Input.DiscardBody();
        }
        return true;
    }

    /// <summary>Reads and discards what the handler left of the body, so the next request starts where it should; false when the connection must close.</summary>
    /// <remarks>A body already received whole (or none: a GET) completes here, without an async frame.</remarks>
    public ValueTask<bool> DrainAsync() => DrainBuffered() ? new ValueTask<bool>(true) : DrainSlowAsync();

    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    private async ValueTask<bool> DrainSlowAsync()
    {
        while (!_complete)
        {
            int n = await ReadCoreAsync(Memory<byte>.Empty, discard: true).ConfigureAwait(false);
            if (n < 0) return false;
        }
        return true;
    }

    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadCoreAsync(Memory<byte> destination, bool discard)
    {
        var input = state.Input;
        while (true)
        {
            if (input.BodyAvailable > 0)
            {
                if (discard)
                {
                    input.DiscardBody();
                    continue;
                }
                return destination.IsEmpty ? 0 : input.TakeBody(destination.Span);
            }
            if (_complete) return 0;
            switch (input.Parse())
            {
                case HttpParseStatus.Body:
                    continue;
                case HttpParseStatus.MessageComplete:
                    _complete = true;
                    return 0;
                case HttpParseStatus.NeedMoreData:
                    if (await WaitForBytesAsync().ConfigureAwait(false) == 0)
                    {
                        if (discard) return -1;
                        throw new EndOfStreamException($"The client closed the connection before the request body ended ({state.Connection.Stream.Description}).");
                    }
                    continue;
                case HttpParseStatus.Error:
                    if (discard)
                    {
                        state.Connection.Reject(state.Parser.Error);
                        return -1;
                    }
                    throw new HttpParseException(state.Parser.Error);
                case var status:
                    throw new InvalidOperationException($"Unexpected parser event {status} inside a request body.");
            }
        }
    }

    /// <summary>Reads more of the body from the socket, sending the pending 100 Continue first. Returns 0 if the client left.</summary>
    [AsyncMethodBuilder(typeof(LoopPoolingValueTaskMethodBuilder<>))]
    private async ValueTask<int> WaitForBytesAsync()
    {
        var connection = state.Connection;
        if (_continuePending)
        {
            // The client waits for this before it sends the body: only now is the body wanted.
            _continuePending = false;
            state.Output.WriteContinue();
        }
        if (state.Output.Pending > 0) await state.Output.FlushAsync().ConfigureAwait(false);
        // The wait's start is read before the phase is announced: a test hook (or anything else) acting on the phase
        // change must find the clock reading it belongs to.
        _waitStart = state.Server.Now;
        _waiting = true;
        var timeouts = state.Server.Timeouts;
        var before = timeouts.BodyWaitStarted(connection);
        int n;
        try
        {
            n = await connection.ReadMoreAsync(dataReady: false).ConfigureAwait(false);
        }
        catch (SystemCallException)
        {
            // A reset inside the body: the handler's read throws the typed error, and its token fires as for a close.
            connection.PeerFailed("the connection failed inside the request body");
            throw;
        }
        finally
        {
            _waitedTicks += state.Server.Now - _waitStart;
            _waiting = false;
            timeouts.BodyWaitEnded(connection, before);
        }
        if (n == 0) connection.PeerFailed("the client closed the connection inside the request body");
        return n;
    }
}
