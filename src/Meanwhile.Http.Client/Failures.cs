using System.Security.Authentication;

namespace Meanwhile.Http.Client;

/// <summary>Thrown inside the client when a request failed before any byte of its response arrived on a connection that had served (or queued) others: the peer probably closed it while idle, so the request may be sent again.</summary>
internal sealed class StaleConnectionException(Exception cause) : Exception("The connection failed before the response started.", cause);

/// <summary>The one place where what the layers below throw becomes a <see cref="LoopHttpException"/>.</summary>
internal static class Failures
{
    /// <summary>Translates <paramref name="error"/>; a cancellation the caller asked for and argument errors come back unchanged.</summary>
    public static Exception Translate(Exception error, Uri uri, RequestDeadline deadline)
    {
        if (error is StaleConnectionException { InnerException: { } cause })
        {
            error = cause;
        }

        if (error is OperationCanceledException && deadline.Fired is { } kind)
        {
            return new LoopHttpException(kind, uri, kind switch
            {
                LoopHttpErrorKind.ConnectTimeout => "the connection was not established in time",
                LoopHttpErrorKind.ResponseHeadersTimeout => "the response head did not arrive in time",
                _ => "the request did not complete in time",
            }, error);
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
            IOException { InnerException: { } inner } when Translate(inner, uri, deadline) is LoopHttpException translated => translated,
            IOException => new LoopHttpException(LoopHttpErrorKind.Connection, uri, error.Message, error),
            _ => error,
        };
    }
}
