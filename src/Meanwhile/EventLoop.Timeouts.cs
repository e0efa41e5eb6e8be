namespace Meanwhile;

public sealed partial class EventLoop
{
    /// <summary>
    /// Runs <paramref name="body"/> as a scope with a deadline: when <paramref name="timeout"/> passes, the scope is
    /// cancelled (its loop waits end, its token fires) and this throws <see cref="TimeoutException"/>.
    /// </summary>
    /// <remarks>
    /// A body can only be stopped where cancellation reaches it: a loop wait, or an operation given its token
    /// (<see cref="LoopTask.CurrentToken"/>), or a foreign task awaited through <see cref="Cancellable(Task, CancellationToken)"/>.
    /// One suspended on something else at the deadline (a foreign <see cref="Task"/> awaited without a token) carries on
    /// until that completes. If it then finishes, its value is returned (or its own exception thrown), as asyncio's
    /// <c>timeout()</c> and trio's <c>fail_after</c> do when the body did not end with the cancellation: the work was
    /// done, and its result (an item taken from a queue, say) must not be thrown away. The overrun is not silent: it is
    /// reported to <see cref="EventLoopOptions.OnError"/> as a <see cref="DeadlineOverrunException"/> naming the wait
    /// that held the body up.
    /// </remarks>
    /// <param name="timeout">The time allowed.</param>
    /// <param name="body">The work; its token is cancelled at the deadline or with the calling task.</param>
    /// <exception cref="TimeoutException">The deadline passed first.</exception>
    public async Task WithTimeout(TimeSpan timeout, Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        await WithTimeout(timeout, async token => { await body(token); return true; });
    }

    /// <summary>Runs <paramref name="body"/> with a deadline and returns its value; see <see cref="WithTimeout(TimeSpan, Func{CancellationToken, Task})"/>.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="timeout">The time allowed.</param>
    /// <param name="body">The work.</param>
    public async Task<T> WithTimeout<T>(TimeSpan timeout, Func<CancellationToken, Task<T>> body)
    {
        CheckThread();
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(body);
        var scope = Spawn(body, "timeout scope");
        bool timedOut = false;
        long deadline = 0;
        string? heldUpBy = null;
        var timer = CallLater(timeout, () =>
        {
            if (scope.IsCompleted) return;
            timedOut = true;
            deadline = _time.GetTimestamp();
            heldUpBy = FindUnreachableWait(scope);
            scope.CancelCore();
        });
        try
        {
            var result = await scope;
            if (heldUpBy is not null) ReportOverrun(timeout, deadline, heldUpBy, scope);
            return result;
        }
        catch (OperationCanceledException e) when (timedOut)
        {
            throw new TimeoutException($"The operation did not finish within {timeout}.", e);
        }
        catch (Exception) when (heldUpBy is not null)
        {
            ReportOverrun(timeout, deadline, heldUpBy, scope); // it failed late, in its own way: that is what it throws
            throw;
        }
        finally
        {
            timer.Cancel();
        }
    }

    /// <summary>A task of <paramref name="scope"/> (itself or below) suspended where cancellation cannot reach, described; or null.</summary>
    private static string? FindUnreachableWait(LoopTask scope)
    {
        if (scope.WaitingOn is { Kind: WaitKind.Foreign, Detail: 0 } reason)
            return $"task #{scope.Id}{(scope.Name is null ? "" : $" '{scope.Name}'")} waited on {reason}";
        for (var child = scope.FirstChild; child is not null; child = child.NextSibling)
        {
            var found = child is LoopTask task ? FindUnreachableWait(task) : FindInGroup(child);
            if (found is not null) return found;
        }
        return null;

        static string? FindInGroup(CancelScope group)
        {
            for (var child = group.FirstChild; child is not null; child = child.NextSibling)
                if ((child is LoopTask task ? FindUnreachableWait(task) : FindInGroup(child)) is { } found) return found;
            return null;
        }
    }

    private void ReportOverrun(TimeSpan timeout, long deadline, string heldUpBy, LoopTask scope)
    {
        var overrun = _time.GetElapsedTime(deadline);
        var error = new DeadlineOverrunException(
            $"A WithTimeout({timeout}) body finished {overrun.TotalMilliseconds:0.###} ms after its deadline: at the deadline {heldUpBy}, " +
            "which cancellation cannot reach. Its result was returned. Pass LoopTask.CurrentToken to that operation, or await it " +
            "through EventLoop.Cancellable.",
            timeout, overrun);
        ReportError(error, "a timeout scope overran its deadline", scope);
    }
}
