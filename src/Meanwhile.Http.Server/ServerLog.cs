using Microsoft.Extensions.Logging;

namespace Meanwhile.Http.Server;

/// <summary>The server's log messages, source-generated so a disabled level costs nothing.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Information, "Listening on {EndPoint} (loop {Loop}, {Reactor} reactor)")]
    public static partial void Listening(ILogger logger, string endPoint, int loop, string reactor);

    [LoggerMessage(2, LogLevel.Debug, "Rejected a request from {Remote}: {Error}")]
    public static partial void Rejected(ILogger logger, string? remote, string error);

    [LoggerMessage(3, LogLevel.Error, "The handler threw while answering \"{RequestLine}\" from {Remote}; the client got a 500 (or a cut response) and the connection is closed")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string requestLine, string? remote);

    [LoggerMessage(4, LogLevel.Debug, "Closing the connection of {Remote}: {Reason}")]
    public static partial void Aborted(ILogger logger, string? remote, string reason);

    [LoggerMessage(5, LogLevel.Debug, "The connection of {Remote} ended with an error")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, string? remote);

    [LoggerMessage(6, LogLevel.Warning, "Accept failed on {EndPoint}; retrying")]
    public static partial void AcceptFailed(ILogger logger, Exception exception, string endPoint);

    [LoggerMessage(7, LogLevel.Information, "Shutting down: {Connections} connection(s) still open")]
    public static partial void ShuttingDown(ILogger logger, int connections);

    [LoggerMessage(8, LogLevel.Debug, "TLS handshake with {Remote} failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string? remote, string reason);

    [LoggerMessage(9, LogLevel.Information, "Reloaded {Count} certificate(s)")]
    public static partial void CertificatesReloaded(ILogger logger, int count);

    [LoggerMessage(10, LogLevel.Error, "Reloading the certificates failed; the ones in use stay")]
    public static partial void CertificateReloadFailed(ILogger logger, Exception exception);
}
