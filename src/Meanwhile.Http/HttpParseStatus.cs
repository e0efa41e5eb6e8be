namespace Meanwhile.Http;

/// <summary>What one call to a parser produced; the caller acts on it and calls again with the rest of its input.</summary>
public enum HttpParseStatus : byte
{
    /// <summary>All the input was consumed and more bytes are needed; the parser kept what it needs, so the caller may drop its buffer.</summary>
    NeedMoreData = 0,

    /// <summary>The start line and header section are complete; the head is available until the next message starts.</summary>
    HeadComplete = 1,

    /// <summary>A piece of body content (already de-chunked) is in the body output; it points into the caller's input.</summary>
    Body = 2,

    /// <summary>The message is complete; the next call starts the next message on the connection (pipelining).</summary>
    MessageComplete = 3,

    /// <summary>The input is not a valid message; <see cref="HttpMessageParser.Error"/> says why and which status a server should answer.</summary>
    Error = 4,

    /// <summary>Returned by <see cref="HttpMessageParser.EndOfInput"/> when the input ended between messages: a clean close.</summary>
    EndOfStream = 5,
}
