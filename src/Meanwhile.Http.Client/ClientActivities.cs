using System.Diagnostics;

namespace Meanwhile.Http.Client;

/// <summary>
/// The client's traces: an <see cref="ActivitySource"/> named <c>Meanwhile.Http.Client</c>, one activity (span) per
/// request sent (redirects it follows included), whose id goes to the server in a W3C <c>traceparent</c> header so that
/// the server's span continues the trace. With no listener it makes nothing: a request costs one check.
/// </summary>
internal static class ClientActivities
{
    public const string SourceName = "Meanwhile.Http.Client";

    private static readonly ActivitySource Source = new(SourceName, "0.1.0");

    /// <summary>Starts the request's activity (a child of <see cref="Activity.Current"/>), or returns null when nobody listens.</summary>
    public static Activity? Start(LoopHttpRequest request)
    {
        if (!Source.HasListeners()) return null;
        // StartActivity makes the span current, but the send is not an async method that would scope that to itself:
        // the caller's current activity is put back, so nothing leaks into the code after the call.
        var caller = Activity.Current;
        var activity = Source.StartActivity(request.Method, ActivityKind.Client);
        Activity.Current = caller;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("http.request.method", request.Method);
            activity.SetTag("url.full", request.Uri.GetLeftPart(UriPartial.Path));
            activity.SetTag("server.address", request.Uri.Host);
            activity.SetTag("server.port", request.Uri.Port);
        }
        return activity;
    }

    /// <summary>Writes the activity's <c>traceparent</c> (and <c>tracestate</c>) unless the request sets its own.</summary>
    public static void Inject(PooledByteBuffer head, Activity activity, LoopHttpRequest request)
    {
        if (activity.IdFormat != ActivityIdFormat.W3C || request.HasHeader("traceparent")) return;
        HttpHeadWriter.WriteField(head, "traceparent", activity.Id!);
        if (activity.TraceStateString is { Length: > 0 } state) HttpHeadWriter.WriteField(head, "tracestate", state);
    }

    /// <summary>Ends the activity: with the response's status, or as an error.</summary>
    public static void Stop(Activity activity, int statusCode, Exception? failure)
    {
        if (failure is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, failure.Message);
            if (activity.IsAllDataRequested) activity.SetTag("error.type", failure is LoopHttpException http ? http.Kind.ToString() : failure.GetType().Name);
        }
        else
        {
            if (activity.IsAllDataRequested) activity.SetTag("http.response.status_code", statusCode);
            if (statusCode >= 400) activity.SetStatus(ActivityStatusCode.Error);
        }
        // It ends in whatever callback saw the response: that callback's current activity stays as it was.
        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }
}
