namespace Meanwhile.Http.Client;

/// <summary>Which request follows a redirect response (RFC 9110 15.4), or none.</summary>
internal static class Redirects
{
    /// <summary>The request to send for <paramref name="response"/> to <paramref name="request"/>; null when it is not a redirect to follow.</summary>
    public static LoopHttpRequest? Next(LoopHttpRequest request, LoopHttpResponse response)
    {
        int status = response.StatusCode;
        if (status is not (301 or 302 or 303 or 307 or 308) || response.GetHeader("Location") is not { } location)
        {
            return null;
        }

        if (!Uri.TryCreate(request.Uri, location, out var target) || (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps))
        {
            return null; // not something this client can fetch: the caller gets the redirect itself
        }

        // 303 always turns into GET (HEAD stays HEAD); 301 and 302 turn POST into GET as every browser does, which
        // RFC 9110 15.4.2-3 allows. 307 and 308 keep method and body: that needs a body that can be sent again.
        bool toGet = (status == 303 && request.Method != "HEAD") || (status is 301 or 302 && request.Method == "POST");
        if (!toGet && request.Body is { IsReplayable: false })
        {
            return null;
        }

        var next = new LoopHttpRequest(toGet ? "GET" : request.Method, target)
        {
            Body = toGet ? null : request.Body,
            ExpectContinue = !toGet && request.ExpectContinue,
        };
        next.Body?.Rewind();

        bool sameOrigin = target.Scheme == request.Uri.Scheme && target.IdnHost == request.Uri.IdnHost && target.Port == request.Uri.Port;
        foreach (var header in request.HeadersToRead)
        {
            // Credentials stay with their origin; content fields go with the body they described.
            if ((!sameOrigin && (IsNamed(header.Key, "Authorization") || IsNamed(header.Key, "Cookie")))
                || (toGet && header.Key.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            next.Headers.Add(header);
        }

        return next;
    }

    private static bool IsNamed(string name, string expected) => string.Equals(name, expected, StringComparison.OrdinalIgnoreCase);
}
