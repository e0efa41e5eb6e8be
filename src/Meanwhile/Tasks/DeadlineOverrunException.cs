namespace Meanwhile;

/// <summary>
/// Reported to <see cref="EventLoopOptions.OnError"/> (never thrown) when a
/// <see cref="EventLoop.WithTimeout(TimeSpan, Func{CancellationToken, Task})"/> body finished after its deadline because it
/// was suspended on something cancellation cannot reach: the body's result was returned, late.
/// </summary>
public sealed class DeadlineOverrunException : TimeoutException
{
    /// <summary>Creates the report.</summary>
    /// <param name="message">What overran, by how much, and what held it up.</param>
    /// <param name="timeout">The time the scope allowed.</param>
    /// <param name="overrun">How long after the deadline the body finished.</param>
    public DeadlineOverrunException(string message, TimeSpan timeout, TimeSpan overrun) : base(message)
    {
        Timeout = timeout;
        Overrun = overrun;
    }

    /// <summary>The time the scope allowed.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>How long after the deadline the body finished, on the loop's clock.</summary>
    public TimeSpan Overrun { get; }
}
