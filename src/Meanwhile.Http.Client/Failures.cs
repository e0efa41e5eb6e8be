using System.Security.Authentication;

namespace Meanwhile.Http.Client;

/// <summary>Thrown inside the client when a request failed before any byte of its response arrived on a connection that had served (or queued) others: the peer probably closed it while idle, so the request may be sent again.</summary>
internal sealed class StaleConnectionException(Exception cause) : Exception("The connection failed before the response started.", cause);

/// <summary>The one place where what the layers below throw becomes a <see cref="LoopHttpException"/>.</summary>
internal static class Failures
{
    /// <summary>Translates <paramref name="error"/> (timeouts and cancellations are the <see cref="Exchange"/>'s business); argument errors come back unchanged.</summary>
    public static Exception Translate(Exception error, Uri uri)
    {
        if (error is StaleConnectionException { InnerException: { } cause })
        {
            error = cause;
        }

        return error switch
        {
            LoopHttpException or OperationCanceledException or ArgumentException => error,
            NameResolutionException => new LoopHttpException(LoopHttpErrorKind.NameResolution, uri, error.Message, error),
            ConnectionRefusedException => new LoopHttpException(LoopHttpErrorKind.ConnectionRefused, uri, error.Message, error),
            ConnectionTimedOutException => new LoopHttpException(LoopHttpErrorKind.ConnectTimeout, uri, error.Message, error),
            ConnectionResetException or BrokenPipeException => new LoopHttpException(LoopHttpErrorKind.ConnectionReset, uri, error.Message, error),
            AuthenticationException => new LoopHttpException(LoopHttpErrorKind.Tls, uri, error.Message, error),
            SystemCallException => new LoopHttpException(LoopHttpErrorKind.Connection, uri, error.Message, error),
            ObjectDisposedException => new LoopHttpException(LoopHttpErrorKind.ConnectionReset, uri, "the connection was closed while in use", error),
            IOException { InnerException: { } inner } when Translate(inner, uri) is LoopHttpException translated => translated,
            IOException => new LoopHttpException(LoopHttpErrorKind.Connection, uri, error.Message, error),
            _ => error,
        };
    }
}
