using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile.Http.Client;

/// <summary>
/// Reading responses: the head, written once by hand (<see cref="ReadHeadAsync"/>), and the body, both through the
/// connection's input reader; the zero-byte waits that keep waiting connections free of buffers.
/// </summary>
internal sealed partial class ClientConnection : IValueTaskSource<bool>
{
    /// <summary>
    /// The read turn is the caller's and its request's head is sent: the response to <paramref name="method"/> is next.
    /// The one place where what belongs to one response is reset.
    /// </summary>
    public void BeginResponse(string method)
    {
        _parser.SetRequestMethod(MethodBytes.Of(method));
        _bodyComplete = false;
        _receivedAny = _input.Buffered > 0; // a pipelined response may have begun to arrive already
    }

    /// <summary>
    /// Reads until a final response head (skipping 1xx), or until <c>100 Continue</c> when <paramref name="stopAtContinue"/>:
    /// true when it stopped at 100 Continue. Completes at once when the bytes are buffered.
    /// </summary>
    /// <exception cref="LoopHttpException">The response is malformed, or the connection closed before its head.</exception>
    public ValueTask<bool> ReadHeadAsync(Uri uri, bool stopAtContinue)
    {
        _headUri = uri;
        _stopAtContinue = stopAtContinue;
        try
        {
            if (ReadHeadSteps(out bool continued))
            {
                return new ValueTask<bool>(continued);
            }

            // A read waits (its continuation, OnHeadBytes, cannot run before this returns): a new operation of the source.
            _headRead.Reset();
            return new ValueTask<bool>(this, _headRead.Version);
        }
        catch (Exception e)
        {
            return ValueTask.FromException<bool>(e);
        }
    }

    /// <summary>
    /// Runs <paramref name="continuation"/> with <paramref name="state"/> when the head read that
    /// <see cref="ReadHeadAsync"/> left pending completes (as a <c>ConfigureAwait(false)</c> await would): a round trip
    /// waits for its response head with a static delegate, not one of its own per pooled round trip.
    /// </summary>
    public void OnHeadRead(Action<object?> continuation, object state) =>
        _headRead.OnCompleted(continuation, state, _headRead.Version, ValueTaskSourceOnCompletedFlags.None);

    private void OnHeadBytes()
    {
        if (!_context.Loop.IsLoopThread)
        {
            _context.Loop.Post(static s => ((ClientConnection)s!).OnHeadBytes(), this);
            return;
        }

        var read = _pendingHeadRead;
        _pendingHeadRead = default;
        bool continued;
        try
        {
            Received(read.GetResult());
            if (!ReadHeadSteps(out continued))
            {
                return;
            }
        }
        catch (Exception e)
        {
            _headRead.SetException(e);
            return;
        }

        _headRead.SetResult(continued);
    }

    /// <summary>Parses, and reads while bytes come at once: true when the head is in, false when a read waits (its continuation registered).</summary>
    private bool ReadHeadSteps(out bool continued)
    {
        while (true)
        {
            var step = ReadHeadStep(_stopAtContinue, _headUri);
            if (step != HeadStep.NeedMore)
            {
                continued = step == HeadStep.Continue;
                return true;
            }

            var read = ReceiveAsync();
            if (!read.IsCompleted)
            {
                // Without the context: the read completes on the loop (its own continuation runs from the ready queue,
                // in the task that started it), and carrying on right there saves a post. OnHeadBytes checks the thread,
                // in case a transport ever completes elsewhere.
                _pendingHeadRead = read.ConfigureAwait(false).GetAwaiter();
                _pendingHeadRead.UnsafeOnCompleted(_onHeadBytes);
                continued = false;
                return false;
            }

            Received(read.GetAwaiter().GetResult());
        }
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _headRead.GetStatus(token);

    bool IValueTaskSource<bool>.GetResult(short token) => _headRead.GetResult(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _headRead.OnCompleted(continuation, state, token, flags);

    /// <summary>
    /// A read of more bytes once the parser consumed everything buffered; pass its result to <see cref="Received"/>.
    /// Returns the stream's own <see cref="ValueTask{TResult}"/>: no async layer.
    /// </summary>
    private ValueTask<int> ReceiveAsync()
    {
        if (_input.IsEndOfInput)
        {
            return new ValueTask<int>(0);
        }

        // Wait for data without a buffer, so exchanges waiting for their answers hold no memory; then rent and read,
        // and the read finds the data at once. On a plain socket this is also the cheaper wait: the loop's readiness
        // wait is itself the value task, where a read that has to wait runs an async method (one recv either way: the
        // socket knows its last read emptied it, so the wait needs no peek). Through TLS only with many connections
        // open: SslStream's zero-byte read is a layer of its own.
        if (!_input.HasBuffer && (_tls is null || _pool.OpenCount > ZeroByteReadThreshold) && !_waitedWithoutBuffer)
        {
            _waitedWithoutBuffer = true;
            return ReadStreamAsync(Memory<byte>.Empty);
        }

        return ReadStreamAsync(_input.GetReadMemory());
    }

    private ValueTask<int> ReadStreamAsync(Memory<byte> into) => _tls is null ? _socket.ReadAsync(into) : _tls.ReadAsync(into);

    /// <summary>Takes the result of <see cref="ReceiveAsync"/>.</summary>
    private void Received(int n)
    {
        if (!_input.HasBuffer)
        {
            return; // the zero-byte wait for data ended: the next ReceiveAsync rents the buffer and reads
        }

        _waitedWithoutBuffer = false;
        _input.Advance(n);
        if (n > 0)
        {
            _receivedAny = true;
        }
    }

    /// <summary>Reads body bytes of the current response into <paramref name="destination"/>; 0 at its end.</summary>
    public async ValueTask<int> ReadBodyAsync(Memory<byte> destination, Uri uri)
    {
        while (true)
        {
            if (TryReadBuffered(destination, uri, out int n))
            {
                return n;
            }

            try
            {
                Received(await ReceiveAsync());
            }
            catch
            {
                Abort();
                throw;
            }
        }
    }

    /// <summary>Reads body bytes that are already buffered (or the body's end) without waiting: false when a read from the connection is needed.</summary>
    public bool TryReadBuffered(Memory<byte> destination, Uri uri, out int read)
    {
        while (true)
        {
            if (_input.BodyAvailable > 0)
            {
                read = _input.TakeBody(destination.Span);
                return true;
            }

            if (_bodyComplete || destination.IsEmpty)
            {
                read = 0;
                return true;
            }

            if (!StepBody(uri))
            {
                read = 0;
                return false;
            }
        }
    }

    /// <summary>Finishes the body from bytes already received, without waiting: true when the whole response is in.</summary>
    public bool TryCompleteFromBuffer(Uri uri)
    {
        try
        {
            while (!_bodyComplete)
            {
                _input.DiscardBody();
                if (!StepBody(uri))
                {
                    return false;
                }
            }

            _input.DiscardBody();
            return true;
        }
        catch (LoopHttpException)
        {
            return false;
        }
    }

    private enum HeadStep
    {
        NeedMore,
        Final,
        Continue,
    }

    /// <summary>Parses buffered bytes towards a final head: how far it got. Throws at the end of input or on a malformed response.</summary>
    private HeadStep ReadHeadStep(bool stopAtContinue, Uri uri)
    {
        while (true)
        {
            switch (_input.Parse())
            {
                case HttpParseStatus.NeedMoreData:
                    return HeadStep.NeedMore;

                case HttpParseStatus.EndOfStream:
                    throw new LoopHttpException(LoopHttpErrorKind.IncompleteResponse, uri, "the connection closed before any response");

                case HttpParseStatus.HeadComplete when _parser.Head.IsInterim:
                    if (_parser.Head.StatusCode == 101)
                    {
                        throw new LoopHttpException(uri, new HttpParseError(HttpParseErrorKind.InvalidStatusLine, "101 Switching Protocols without an Upgrade request"));
                    }

                    if (stopAtContinue && _parser.Head.StatusCode == 100)
                    {
                        _input.Parse(); // the interim message's (empty) end, so the next read starts at the final response
                        return HeadStep.Continue;
                    }

                    break;

                case HttpParseStatus.HeadComplete:
                    // A response without a body (HEAD, 204, 304, Content-Length: 0) is complete now; say so, so a
                    // caller who never reads the body still leaves a reusable connection.
                    if (_parser.Head.Framing == HttpBodyFraming.None || (_parser.Head.Framing == HttpBodyFraming.ContentLength && _parser.Head.ContentLength == 0))
                    {
                        StepBody(uri);
                    }

                    _context.Mark(ClientMarks.ResponseReceived);
                    return HeadStep.Final;

                case HttpParseStatus.MessageComplete:
                    break; // the end of a 1xx message

                default:
                    if (_input.IsEndOfInput && _parser.Error.Kind == HttpParseErrorKind.IncompleteMessage)
                    {
                        throw new LoopHttpException(LoopHttpErrorKind.IncompleteResponse, uri, $"the connection closed before the response head was complete ({_parser.Error.Reason})");
                    }

                    throw new LoopHttpException(uri, _parser.Error);
            }
        }
    }

    /// <summary>Advances the parser over buffered bytes: true when it made progress (a body piece is pending, or the body ended).</summary>
    private bool StepBody(Uri uri)
    {
        switch (_input.Parse())
        {
            case HttpParseStatus.Body:
                return true;

            case HttpParseStatus.MessageComplete or HttpParseStatus.EndOfStream:
                _bodyComplete = true;
                return true;

            case HttpParseStatus.NeedMoreData:
                return false;

            default:
                if (_input.IsEndOfInput && _parser.Error.Kind == HttpParseErrorKind.IncompleteMessage)
                {
                    throw new LoopHttpException(LoopHttpErrorKind.IncompleteResponse, uri,
                        $"the connection closed after {_parser.BodyBytesReceived} body bytes, before the response was complete ({_parser.Error.Reason})");
                }

                throw new LoopHttpException(uri, _parser.Error);
        }
    }
}
