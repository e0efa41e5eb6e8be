using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Meanwhile.Http.Client;

/// <summary>
/// Send-then-read-head, the step every exchange takes on a connection, written once: take the write turn, then a place
/// in the read turn (which keeps responses in the order of requests), write the head (and the body), give the write
/// turn up, wait for the read turn, and read the response head. The exchange's fast path and its general path both
/// run it; the general path only adds what comes before (waiting for a connection) and after (redirects, retries).
/// </summary>
/// <remarks>
/// <para>
/// Driven by hand: each step awaits the next operation through a cached delegate (a socket's own value task, a turn's
/// task), so a request on an idle kept-alive connection runs with no async method and no allocation; only waits that
/// pipelining or a request body bring (a turn held by another request, a streamed body, <c>100 Continue</c>) cost
/// the objects their tasks are. Each exchange owns one, reused from request to request. The general path awaits it
/// (<see cref="RunAsync"/>); the fast path is called back (<see cref="Start"/>), one value task fewer per request.
/// </para>
/// <para>
/// With other exchanges out, the head is written at the loop's next turn together with the heads of that turn
/// (<see cref="ExchangePool.QueueSend"/>), and serialized only then: many heads waiting for the same turn would each hold
/// a buffer. Loop thread only.
/// </para>
/// </remarks>
internal sealed class RoundTrip : IValueTaskSource
{
    private readonly Exchange _exchange;
    private readonly ClientContext _context;
    private readonly ExchangePool _sends;
    // The continuations, made on first use: a fresh round trip (ten thousand requests at once each get one) makes only
    // those its requests wait on, and a reused one has them all already.
    private Action? _onWriteTurn;
    private Action? _onHeadWritten;
    private Action? _onBodyWritten;
    private Action? _onReadTurn;
    private Action? _onContinueDone;
    private LoopValueTaskSourceCore<bool> _done;
    private ClientConnection _connection = null!;
    private LoopHttpRequest _request = null!;
    private OriginPool _pool = null!;
    private byte[] _target = [];
    private PooledByteBuffer? _head;
    private Task? _readTurn;
    private TaskAwaiter _pendingTask;
    private ConfiguredValueTaskAwaitable.ConfiguredValueTaskAwaiter _pendingWrite;
    private ConfiguredValueTaskAwaitable<bool>.ConfiguredValueTaskAwaiter _pendingHead;
    private bool _direct;
    private bool _holdingWrite;
    private bool _holdingRead;
    private bool _reused;
    private bool _bodyInHead;

    public RoundTrip(Exchange exchange, ClientContext context, ExchangePool sends)
    {
        _exchange = exchange;
        _context = context;
        _sends = sends;
        _done = new LoopValueTaskSourceCore<bool>(context.Loop);
    }

    /// <summary>The caller's context when the head was queued for the next turn: the head goes out, and its response is read, under it.</summary>
    public SynchronizationContext? QueuedContext { get; private set; }

    /// <summary>
    /// Sends <paramref name="request"/> on <paramref name="connection"/> (its <see cref="ClientConnection.InFlight"/>
    /// already counts it) and reads the response head. On success the caller owns the response until
    /// <see cref="ClientConnection.Release"/>.
    /// </summary>
    /// <exception cref="StaleConnectionException">Nothing of the response came on a connection that had been used before: send again.</exception>
    public ValueTask RunAsync(ClientConnection connection, LoopHttpRequest request, OriginPool pool, byte[] target)
    {
        _done.Reset();
        _direct = false;
        Begin(connection, request, pool, target);
        return new ValueTask(this, _done.Version);
    }

    /// <summary>
    /// The same round trip for the exchange's fast path, which is told the outcome directly
    /// (<see cref="Exchange.RoundTripEnded"/>, possibly before this returns) instead of awaiting a value task.
    /// </summary>
    public void Start(ClientConnection connection, LoopHttpRequest request, OriginPool pool, byte[] target)
    {
        _direct = true;
        Begin(connection, request, pool, target);
    }

    private void Begin(ClientConnection connection, LoopHttpRequest request, OriginPool pool, byte[] target)
    {
        _connection = connection;
        _request = request;
        _pool = pool;
        _target = target;
        _reused = connection.Completed > 0 || connection.InFlight > 1;
        _holdingWrite = _holdingRead = false;
        _readTurn = null;
        try
        {
            connection.ThrowIfBroken();
            var turn = connection.EnterWriteTurn(_exchange);
            if (!turn.IsCompleted)
            {
                Await(turn, _onWriteTurn ??= OnWriteTurn);
                return;
            }

            turn.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Fail(e);
            return;
        }

        WriteTurnHeld();
    }

    private void OnWriteTurn()
    {
        if (TaskSucceeded())
        {
            WriteTurnHeld();
        }
    }

    private void WriteTurnHeld()
    {
        _holdingWrite = true;
        try
        {
            _connection.ThrowIfBroken();
            _readTurn = _connection.EnterReadTurn(_exchange);
        }
        catch (Exception e)
        {
            Fail(e);
            return;
        }

        if (_request.ExpectContinue && _request.Body is not null)
        {
            // Only with exclusive use of the connection (the pool never pipelines a request with a body).
            Await(SendExpectingContinueAsync(), _onContinueDone ??= OnContinueDone);
            return;
        }

        if (_request.Body is null && _sends.ShouldQueue)
        {
            QueuedContext = SynchronizationContext.Current;
            _sends.QueueSend(this);
            return;
        }

        SendHead();
    }

    /// <summary>Serializes the head and writes it (the head of a queued request: at the loop's next turn).</summary>
    public void SendHead()
    {
        QueuedContext = null;
        _head = _context.RentWriter();
        try
        {
            _bodyInHead = RequestHeadWriter.Write(_head, _request, _pool, _target, _context.Options, _exchange.Activity);
            var write = _connection.WriteAsync(_head.WrittenMemory);
            if (!write.IsCompleted)
            {
                // The kernel's send buffer is full (rare for a head).
                _pendingWrite = write.ConfigureAwait(false).GetAwaiter();
                _pendingWrite.UnsafeOnCompleted(_onHeadWritten ??= OnHeadWritten);
                return;
            }

            write.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Fail(e);
            return;
        }

        HeadWritten();
    }

    private void OnHeadWritten()
    {
        if (OffLoop(_onHeadWritten ??= OnHeadWritten))
        {
            return;
        }

        var write = _pendingWrite;
        _pendingWrite = default;
        if (Succeeded(static w => w.GetResult(), write))
        {
            HeadWritten();
        }
    }

    private void HeadWritten()
    {
        if (_request.Body is { } body && !_bodyInHead)
        {
            Task writing;
            try
            {
                writing = RequestBodyWriter.WriteAsync(_connection.Stream, body, _head!, _exchange.WaitToken);
            }
            catch (Exception e)
            {
                Fail(e);
                return;
            }

            if (!writing.IsCompleted)
            {
                Await(writing, _onBodyWritten ??= OnBodyWritten);
                return;
            }

            _pendingTask = writing.GetAwaiter();
            OnBodyWritten();
            return;
        }

        Sent();
    }

    private void OnBodyWritten()
    {
        if (TaskSucceeded())
        {
            Sent();
        }
    }

    private void Sent()
    {
        ReturnHead();
        _holdingWrite = false;
        _connection.ExitWriteTurn();
        _context.Mark(ClientMarks.RequestSent);
        if (!_readTurn!.IsCompleted)
        {
            Await(_readTurn, _onReadTurn ??= OnReadTurn);
            return;
        }

        _pendingTask = _readTurn.GetAwaiter();
        OnReadTurn();
    }

    private void OnReadTurn()
    {
        ValueTask<bool> head;
        try
        {
            _pendingTask.GetResult();
            _holdingRead = true;
            _connection.ThrowIfBroken();
            _connection.BeginResponse(_request.Method);
            _exchange.StartPhase(_context.ResponseHeadersTimeout, LoopHttpErrorKind.ResponseHeadersTimeout);
            head = _connection.ReadHeadAsync(_request.Uri, stopAtContinue: false);
            if (!head.IsCompleted)
            {
                // Pending means the connection's own source (see ReadHeadAsync): waited on without a delegate per round trip.
                _pendingHead = head.ConfigureAwait(false).GetAwaiter();
                _connection.OnHeadRead(static roundTrip => ((RoundTrip)roundTrip!).OnHead(), this);
                return;
            }

            head.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Fail(e);
            return;
        }

        Done();
    }

    private void OnHead()
    {
        var head = _pendingHead;
        _pendingHead = default;
        if (Succeeded(static h => h.GetResult(), head))
        {
            Done();
        }
    }

    /// <summary>
    /// With <c>Expect: 100-continue</c>: the head, then the body once the server says 100 (or says nothing within the
    /// timeout, RFC 9110 10.1.1), or no body at all when a final status comes first.
    /// </summary>
    private async Task SendExpectingContinueAsync()
    {
        await _readTurn!;
        _holdingRead = true;
        var token = _exchange.WaitToken;
        _head = _context.RentWriter();
        RequestHeadWriter.Write(_head, _request, _pool, _target, _context.Options, _exchange.Activity);
        await _connection.WriteAsync(_head.WrittenMemory);
        _connection.BeginResponse(_request.Method);

        // Read and write at once: the server may answer 100 (send the body), a final status (do not), or nothing
        // within the timeout (send the body anyway).
        Task<bool> interim = _connection.ReadHeadAsync(_request.Uri, stopAtContinue: true).AsTask();
        using (var waitLonger = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            var patience = _context.Loop.Delay(_context.Options.ExpectContinueTimeout, waitLonger.Token).AsTask();
            bool sendBody = await Task.WhenAny(interim, patience) != interim || await interim;
            waitLonger.Cancel();
            if (sendBody)
            {
                await RequestBodyWriter.WriteAsync(_connection.Stream, _request.Body!, _head, token);
            }
            else
            {
                _connection.MustClose();
            }
        }

        ReturnHead();
        _holdingWrite = false;
        _connection.ExitWriteTurn();
        _context.Mark(ClientMarks.RequestSent);
        _exchange.StartPhase(_context.ResponseHeadersTimeout, LoopHttpErrorKind.ResponseHeadersTimeout);
        if (await interim)
        {
            await _connection.ReadHeadAsync(_request.Uri, stopAtContinue: false);
        }
    }

    private void OnContinueDone()
    {
        if (TaskSucceeded())
        {
            Done();
        }
    }

    private void Done()
    {
        _exchange.EndPhase();
        if (_direct)
        {
            _exchange.RoundTripEnded(null);
        }
        else
        {
            _done.SetResult(true);
        }
    }

    /// <summary>Gives back what the round trip holds on its connection (which closes) and fails it with what the caller should see.</summary>
    private void Fail(Exception error)
    {
        ReturnHead();
        if (_holdingWrite)
        {
            _holdingWrite = false;
            _connection.ExitWriteTurn();
        }

        if (!_holdingRead && _readTurn is not null)
        {
            _connection.AbandonReadTurn(_readTurn);
        }

        var failure = _connection.Failed(error, _holdingRead, _reused, _exchange);
        if (_direct)
        {
            _exchange.RoundTripEnded(failure);
        }
        else
        {
            _done.SetException(failure);
        }
    }

    private void ReturnHead()
    {
        if (_head is { } head)
        {
            _head = null;
            _context.ReturnWriter(head);
        }
    }

    /// <summary>The outcome of the awaited task: true when it succeeded; a failure fails the round trip.</summary>
    private bool TaskSucceeded() => Succeeded(static t => t.GetResult(), _pendingTask);

    /// <summary>Takes an awaited operation's outcome with <paramref name="getResult"/>: true when it succeeded; a failure fails the round trip.</summary>
    private bool Succeeded<TAwaiter>(Action<TAwaiter> getResult, TAwaiter awaiter)
    {
        try
        {
            getResult(awaiter);
            return true;
        }
        catch (Exception e)
        {
            Fail(e);
            return false;
        }
    }

    /// <summary>Awaits a task (a turn, a body): resumes on the loop, in the caller's task.</summary>
    private void Await(Task task, Action next)
    {
        _pendingTask = task.GetAwaiter();
        _pendingTask.UnsafeOnCompleted(next);
    }

    /// <summary>A socket completion off the loop thread (a transport that completes elsewhere) is carried back to the loop.</summary>
    private bool OffLoop(Action next)
    {
        if (_context.Loop.IsLoopThread)
        {
            return false;
        }

        _context.Loop.Post(next);
        return true;
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _done.GetStatus(token);

    void IValueTaskSource.GetResult(short token) => _done.GetResult(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _done.OnCompleted(continuation, state, token, flags);
}
