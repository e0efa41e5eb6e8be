namespace Meanwhile.Http.Client;

/// <summary>
/// First-come, first-served turns on one connection (writing requests, reading responses): pipelined requests
/// take their turns in the order they were sent, which is the order their responses arrive in.
/// </summary>
/// <remarks>
/// Used from the loop thread only. Entering a free turnstile allocates nothing; a waiter is a task completion source
/// whose cancellation may come from any thread, which is why handing over the turn skips waiters that were cancelled.
/// A struct in its connection's fields (two per connection, ten thousand connections in a simulated run): keep it in a
/// mutable field and never copy it.
/// </remarks>
internal struct Turnstile
{
    private Queue<TaskCompletionSource>? _waiting; // only pipelining waits: created on first use
    private bool _busy;

    /// <summary>Takes the next place in line; the returned task completes when it is this caller's turn.</summary>
    /// <remarks>The place is taken synchronously, before the caller awaits: that is what keeps the order.</remarks>
    /// <param name="exchange">Whose turn it is; only a caller that has to wait asks it for a token (which ends the wait when the exchange ends).</param>
    public Task EnterAsync(IExchangeWaits exchange)
    {
        if (!_busy)
        {
            _busy = true;
            return Task.CompletedTask;
        }

        var cancellationToken = exchange.WaitToken;
        var turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetCanceled(), turn);
        }

        (_waiting ??= new()).Enqueue(turn);
        return turn.Task;
    }

    /// <summary>
    /// Gives up a place taken with <see cref="EnterAsync"/> by a caller that failed before using it: the turn is passed
    /// on if it was already granted, and skipped when it comes otherwise.
    /// </summary>
    /// <param name="turn">The task <see cref="EnterAsync"/> returned.</param>
    public void Abandon(Task turn)
    {
        if (turn.IsCompletedSuccessfully)
        {
            Exit();
            return;
        }

        if (_waiting is not null)
        {
            foreach (var waiter in _waiting)
            {
                if (waiter.Task == turn)
                {
                    waiter.TrySetCanceled();
                }
            }
        }
    }

    /// <summary>Ends the current turn and hands it to the next waiter still waiting.</summary>
    public void Exit()
    {
        while (_waiting is not null && _waiting.TryDequeue(out var next))
        {
            if (next.TrySetResult())
            {
                return;
            }
        }

        _busy = false;
    }
}
