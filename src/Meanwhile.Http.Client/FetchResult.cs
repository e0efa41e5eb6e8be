namespace Meanwhile.Http.Client;

/// <summary>The outcome of one URL of <see cref="LoopHttpClient.FetchAllAsync"/>: its status and body, or the error.</summary>
/// <param name="Uri">The URL asked for.</param>
/// <param name="StatusCode">The final status code (after redirects); 0 when the fetch failed.</param>
/// <param name="Body">The decoded body; null when the fetch failed.</param>
/// <param name="Error">Why the fetch failed (usually a <see cref="LoopHttpException"/>); null on success.</param>
public sealed record FetchResult(Uri Uri, int StatusCode, byte[]? Body, Exception? Error)
{
    /// <summary>True when a response arrived (whatever its status).</summary>
    public bool Succeeded => Error is null;
}
