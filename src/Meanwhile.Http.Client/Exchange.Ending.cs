namespace Meanwhile.Http.Client;

// How an exchange ends before its response does: the whole request's deadline and each phase's, the caller's token and
// a body read's, and the token for the waits that are not on a connection.
internal sealed partial class Exchange
{
    /// <summary>A token for the waits that are not on a connection; made on first use.</summary>
    public CancellationToken WaitToken
    {
        get
        {
            if (_waits is null)
            {
                _waits = new CancellationTokenSource();
                if (Ended)
                {
                    _waits.Cancel();
                }
            }

            return _waits.Token;
        }
    }

    /// <summary>Makes <paramref name="token"/> end the exchange too (a body read's own token); dispose the result when the read is over.</summary>
    public CancellationTokenRegistration Link(CancellationToken token)
    {
        if (!token.CanBeCanceled)
        {
            return default;
        }

        int current = _generation;
        return token.UnsafeRegister(static (state, token) =>
        {
            var (self, generation) = ((Exchange, int))state!;
            var loop = self._context.Loop;
            if (loop.IsLoopThread)
            {
                self.Cancel(generation, token);
                return;
            }

            try
            {
                loop.Post(static s => { var (self, generation, token) = ((Exchange, int, CancellationToken))s!; self.Cancel(generation, token); }, (self, generation, token));
            }
            catch (ObjectDisposedException)
            {
                // the loop is gone, and the exchange with it
            }
        }, (this, current));
    }

    /// <summary>Starts the countdown of one phase (connect, response head) in <paramref name="queue"/>; null runs none.</summary>
    public void StartPhase(DeadlineQueue? queue, LoopHttpErrorKind kind)
    {
        _phase.Stop();
        if (queue is not null)
        {
            _phase.Kind = kind;
            queue.Start(_phase);
        }
    }

    /// <summary>Stops the current phase's countdown.</summary>
    public void EndPhase() => _phase.Stop();

    private void Expire(LoopHttpErrorKind kind)
    {
        if (Ended)
        {
            return;
        }

        Fired = kind;
        End();
    }

    private void Cancel(int expectedGeneration, CancellationToken token)
    {
        if (expectedGeneration != _generation || Ended)
        {
            return;
        }

        Canceled = true;
        _callerToken = token;
        End();
    }

    private void End()
    {
        Stop(); // the whole request's deadline
        _phase.Stop();
        _waits?.Cancel();
        Connection?.Abort();
    }

    // The exchange is the whole request's deadline itself (one object less per request: ten thousand at once in a
    // simulated run); the current phase's is a countdown of its own.
    protected override void OnExpired() => Expire(LoopHttpErrorKind.RequestTimeout);

    /// <summary>The exchange's second deadline: the current phase's.</summary>
    private sealed class Countdown(Exchange owner) : DeadlineQueue.Entry
    {
        public LoopHttpErrorKind Kind;

        protected override void OnExpired() => owner.Expire(Kind);
    }
}
