namespace Meanwhile.Http.Server;

/// <summary>
/// Echo mode: answers every request with 200 and a JSON description of what arrived (method, target, version,
/// header fields in order, de-chunked body in base64) — the contract of the conformance corpus in
/// <c>../shared/conformance/README.md</c>; the JSON itself is <see cref="HttpEchoJsonWriter"/>'s.
/// </summary>
public static class EchoHandler
{
    /// <summary>The echo handler.</summary>
    /// <param name="request">The request to describe.</param>
    /// <param name="response">Gets 200, <c>Content-Type: application/json</c> and the JSON.</param>
    public static async ValueTask HandleAsync(ServerRequest request, ServerResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        // A body of known length gets one buffer of its size (the parser already refused one above the limit), plus
        // the 4 KiB ReadBodyAsync asks for to see the end, so it never doubles; a chunked one grows by doubling.
        var body = new PooledByteBuffer(request.ContentLength is > 0 and var length ? (int)Math.Min(length + 4096, Array.MaxLength) : request.HasBody ? 4096 : 1);
        try
        {
            await request.ReadBodyAsync(body);
            response.AddHeader("Content-Type"u8, "application/json"u8);
            HttpEchoJsonWriter.Write(request.Head, body.WrittenSpan, response);
        }
        finally
        {
            body.Release();
        }
    }
}
