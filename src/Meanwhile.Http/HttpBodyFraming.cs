namespace Meanwhile.Http;

/// <summary>How the end of a message body is found (RFC 9112 6.3).</summary>
public enum HttpBodyFraming : byte
{
    /// <summary>The message has no body at all.</summary>
    None = 0,

    /// <summary>The body is exactly <see cref="HttpMessageHead.ContentLength"/> bytes.</summary>
    ContentLength = 1,

    /// <summary>The body uses the chunked transfer coding; trailers may follow it.</summary>
    Chunked = 2,

    /// <summary>The body runs until the connection closes (responses only).</summary>
    UntilClose = 3,
}
