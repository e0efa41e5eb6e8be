using System.Diagnostics.Metrics;

namespace Meanwhile.Http.Client;

/// <summary>
/// The client's counters, on the meter <c>Meanwhile.Http.Client</c> (<c>dotnet-counters monitor --counters
/// Meanwhile.Http.Client</c>), as the server has its own. Untagged adds, so counting costs no allocation.
/// </summary>
internal static class ClientMetrics
{
    public const string MeterName = "Meanwhile.Http.Client";

    private static readonly Meter Meter = new(MeterName, "0.1.0");

    public static readonly Counter<long> Requests = Meter.CreateCounter<long>("meanwhile.http.client.requests", "{request}", "Requests sent (a call to SendAsync; the redirects it follows are not counted again).");
    public static readonly Counter<long> Failures = Meter.CreateCounter<long>("meanwhile.http.client.failures", "{request}", "Requests that ended in an error instead of a response (refused, reset, timed out, cancelled, malformed answer).");
    public static readonly Counter<long> Connections = Meter.CreateCounter<long>("meanwhile.http.client.connections", "{connection}", "Connections opened.");
    public static readonly UpDownCounter<long> OpenConnections = Meter.CreateUpDownCounter<long>("meanwhile.http.client.open_connections", "{connection}", "Connections open now.");
}
