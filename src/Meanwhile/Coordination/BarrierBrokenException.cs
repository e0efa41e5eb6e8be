namespace Meanwhile;

/// <summary>
/// Thrown by <see cref="LoopBarrier.SignalAndWaitAsync"/> when the barrier was aborted or reset while the task waited,
/// or is broken (asyncio's <c>BrokenBarrierError</c>).
/// </summary>
public sealed class BarrierBrokenException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What broke the barrier.</param>
    public BarrierBrokenException(string message) : base(message) { }
}
