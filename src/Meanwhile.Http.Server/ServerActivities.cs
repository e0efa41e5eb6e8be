using System.Diagnostics;
using System.Text;

namespace Meanwhile.Http.Server;

/// <summary>
/// The server's traces: an <see cref="ActivitySource"/> named <c>Meanwhile.Http.Server</c>, one activity (span) per
/// request, which continues the trace the client's W3C <c>traceparent</c> header names. With no listener it makes
/// nothing: a request costs one check.
/// </summary>
internal static class ServerActivities
{
    public const string SourceName = "Meanwhile.Http.Server";

    private static readonly ActivitySource Source = new(SourceName, "0.1.0");

    /// <summary>Starts the request's activity, or returns null when nobody listens.</summary>
    public static Activity? Start(ServerRequest request)
    {
        if (!Source.HasListeners()) return null;
        ActivityContext parent = default;
        if (request.TryGetHeader("traceparent"u8, out var traceparent))
        {
            string? tracestate = request.TryGetHeader("tracestate"u8, out var state) ? Encoding.Latin1.GetString(state) : null;
            ActivityContext.TryParse(Encoding.Latin1.GetString(traceparent), tracestate, isRemote: true, out parent);
        }
        string method = Encoding.Latin1.GetString(request.Method);
        var activity = Source.StartActivity(method, ActivityKind.Server, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("http.request.method", method);
            activity.SetTag("url.path", Encoding.Latin1.GetString(request.Path));
            activity.SetTag("network.protocol.version", "1.1");
        }
        return activity;
    }

    /// <summary>Ends the request's activity with its status (an error for a 5xx or a handler that threw).</summary>
    public static void Stop(Activity activity, int statusCode, Exception? failure)
    {
        if (activity.IsAllDataRequested) activity.SetTag("http.response.status_code", statusCode);
        if (failure is not null) activity.SetStatus(ActivityStatusCode.Error, failure.GetType().Name);
        else if (statusCode >= 500) activity.SetStatus(ActivityStatusCode.Error);
        activity.Stop();
    }
}
