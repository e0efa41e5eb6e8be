namespace Meanwhile;

/// <summary>
/// Thrown by a put into a <see cref="LoopQueue{T}"/> that was shut down, and by a get once a shut-down queue is empty
/// (Python 3.13's <c>QueueShutDown</c>). An <c>await foreach</c> over the queue ends instead.
/// </summary>
public sealed class QueueShutDownException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was refused, and why.</param>
    public QueueShutDownException(string message) : base(message) { }
}
