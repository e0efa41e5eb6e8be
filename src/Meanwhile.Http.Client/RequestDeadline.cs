using Meanwhile.Timers;

namespace Meanwhile.Http.Client;

/// <summary>
/// The cancellation of one exchange: the caller's token, the whole-request timeout and one phase timeout at a time
/// (connect, response headers), all folded into one token that every wait of the exchange uses.
/// </summary>
/// <remarks>
/// Timers are the loop's own (<see cref="EventLoop.CallLater"/>), so they follow a virtual clock in tests and fire on
/// the loop thread; a cancellation of the caller's token from another thread is posted to the loop, so the
/// connection's streams are only ever cancelled from their own thread. Without a timeout and a cancellable token,
/// nothing is allocated.
/// </remarks>
internal sealed class RequestDeadline : IDisposable
{
    private readonly EventLoop loop;
    private readonly CancellationTokenSource? source;
    private readonly List<CancellationTokenRegistration>? links;
    private TimerHandle wholeTimer;
    private TimerHandle phaseTimer;
    private bool hasWholeTimer;
    private bool hasPhaseTimer;
    private LoopHttpErrorKind phaseKind;
    private bool disposed;

    public RequestDeadline(EventLoop loop, TimeSpan? requestTimeout, CancellationToken callerToken, bool mayNeedPhases)
    {
        this.loop = loop;
        if (requestTimeout is null && !callerToken.CanBeCanceled && !mayNeedPhases)
        {
            return;
        }

        source = new CancellationTokenSource();
        Token = source.Token;
        links = [];
        if (requestTimeout is { } timeout)
        {
            hasWholeTimer = true;
            wholeTimer = loop.CallLater(timeout, () => Fire(LoopHttpErrorKind.RequestTimeout));
        }

        Link(callerToken);
    }

    /// <summary>The token every wait of the exchange uses.</summary>
    public CancellationToken Token { get; }

    /// <summary>Which timeout fired, if one did.</summary>
    public LoopHttpErrorKind? Fired { get; private set; }

    /// <summary>Makes <paramref name="token"/> cancel the exchange too (a body read's own token).</summary>
    public void Link(CancellationToken token)
    {
        if (!token.CanBeCanceled || source is null)
        {
            return;
        }

        links!.Add(token.UnsafeRegister(static state =>
        {
            var self = (RequestDeadline)state!;
            self.loop.Post(static s => ((RequestDeadline)s!).CancelOnLoop(), self);
        }, this));
    }

    /// <summary>Starts the timer of one phase; when it fires the exchange fails with <paramref name="kind"/>.</summary>
    public void StartPhase(LoopHttpErrorKind kind, TimeSpan? timeout)
    {
        EndPhase();
        if (timeout is not { } delay || source is null)
        {
            return;
        }

        phaseKind = kind;
        hasPhaseTimer = true;
        phaseTimer = loop.CallLater(delay, () => Fire(phaseKind));
    }

    /// <summary>Stops the current phase's timer.</summary>
    public void EndPhase()
    {
        if (hasPhaseTimer)
        {
            phaseTimer.Cancel();
            hasPhaseTimer = false;
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        EndPhase();
        if (hasWholeTimer)
        {
            wholeTimer.Cancel();
        }

        if (links is not null)
        {
            foreach (var link in links)
            {
                link.Dispose();
            }
        }

        source?.Dispose();
    }

    private void Fire(LoopHttpErrorKind kind)
    {
        if (disposed || Fired is not null)
        {
            return;
        }

        Fired = kind;
        source!.Cancel();
    }

    private void CancelOnLoop()
    {
        if (!disposed)
        {
            source!.Cancel();
        }
    }
}
