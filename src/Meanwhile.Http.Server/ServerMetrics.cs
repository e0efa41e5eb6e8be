using System.Diagnostics.Metrics;

namespace Meanwhile.Http.Server;

/// <summary>
/// The server's counters, on the meter <c>Meanwhile.Http.Server</c> (watch them with
/// <c>dotnet-counters monitor --counters Meanwhile.Http.Server</c>). Untagged adds, so counting costs no allocation.
/// </summary>
internal static class ServerMetrics
{
    public const string MeterName = "Meanwhile.Http.Server";

    private static readonly Meter Meter = new(MeterName, "0.1.0");

    public static readonly Counter<long> Requests = Meter.CreateCounter<long>("meanwhile.http.server.requests", "{request}", "Requests whose head was accepted and handed to a handler.");
    public static readonly Counter<long> Connections = Meter.CreateCounter<long>("meanwhile.http.server.connections", "{connection}", "Connections accepted.");
    public static readonly UpDownCounter<long> ActiveConnections = Meter.CreateUpDownCounter<long>("meanwhile.http.server.active_connections", "{connection}", "Connections open now.");
    public static readonly Counter<long> BytesRead = Meter.CreateCounter<long>("meanwhile.http.server.bytes_read", "By", "Bytes received from clients.");
    public static readonly Counter<long> BytesWritten = Meter.CreateCounter<long>("meanwhile.http.server.bytes_written", "By", "Bytes sent to clients.");
    public static readonly Counter<long> Rejected = Meter.CreateCounter<long>("meanwhile.http.server.rejected", "{request}", "Requests refused with a 4xx/5xx before any handler ran (malformed, too large, refused by policy).");
    public static readonly Counter<long> HandlerErrors = Meter.CreateCounter<long>("meanwhile.http.server.handler_errors", "{request}", "Handlers that threw.");
    public static readonly Counter<long> AccessLogDropped = Meter.CreateCounter<long>("meanwhile.http.server.access_log.dropped", "{line}", "Access log lines dropped because the log output did not keep up (or failed).");
    public static readonly Counter<long> Timeouts = Meter.CreateCounter<long>("meanwhile.http.server.timeouts", "{connection}", "Connections closed for a request-head, keep-alive, body-rate or write timeout.");
}
