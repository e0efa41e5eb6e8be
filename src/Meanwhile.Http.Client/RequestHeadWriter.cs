namespace Meanwhile.Http.Client;

/// <summary>Serializes a request's head (and a small in-memory body, in the same write) for its origin.</summary>
internal static class RequestHeadWriter
{
    /// <summary>Writes <paramref name="request"/>'s head into <paramref name="head"/>; true when its body went with it.</summary>
    /// <exception cref="ArgumentException">The request sets a field the client writes itself (Host, Content-Length, Transfer-Encoding).</exception>
    public static bool Write(PooledByteBuffer head, LoopHttpRequest request, OriginPool pool, byte[] target, LoopHttpClientOptions options, System.Diagnostics.Activity? activity)
    {
        HttpHeadWriter.WriteRequestLine(head, MethodBytes.Of(request.Method), target, HttpProtocolVersion.Http11);
        HttpHeadWriter.WriteField(head, "Host"u8, pool.HostHeader);
        if (options.UserAgent is { } agent && !request.HasHeader("User-Agent"))
        {
            HttpHeadWriter.WriteField(head, "User-Agent", agent);
        }

        if (options.AutomaticDecompression && !request.HasHeader("Accept-Encoding"))
        {
            HttpHeadWriter.WriteField(head, "Accept-Encoding"u8, ContentDecoding.AcceptEncoding);
        }

        foreach (var field in request.HeadersToRead)
        {
            if (field.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)
                || field.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                || field.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"The client writes '{field.Key}' itself, from the URI and the body.", nameof(request));
            }

            HttpHeadWriter.WriteField(head, field.Key, field.Value);
        }

        if (activity is not null)
        {
            ClientActivities.Inject(head, activity, request);
        }

        var body = request.Body;
        if (body is null)
        {
            // RFC 9110 8.6: a request whose method gives a body meaning says when it has none.
            if (request.Method is "POST" or "PUT" or "PATCH")
            {
                HttpHeadWriter.WriteContentLength(head, 0);
            }
        }
        else if (body.Length is { } length)
        {
            HttpHeadWriter.WriteContentLength(head, length);
        }
        else
        {
            HttpHeadWriter.WriteChunkedTransferEncoding(head);
        }

        if (body is not null && request.ExpectContinue)
        {
            HttpHeadWriter.WriteField(head, "Expect"u8, "100-continue"u8);
        }

        HttpHeadWriter.WriteEndOfHead(head);
        if (body is { Stream: null } && !request.ExpectContinue && body.Bytes.Length <= RequestBodyWriter.InlineLimit)
        {
            // One write for head and body: one syscall, one TLS record.
            head.Write(body.Bytes.Span);
            return true;
        }

        return false;
    }
}
