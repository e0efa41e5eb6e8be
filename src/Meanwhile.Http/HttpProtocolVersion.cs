namespace Meanwhile.Http;

/// <summary>The HTTP/1.x versions a message can carry once parsed.</summary>
/// <remarks>Named apart from <c>System.Net.HttpVersion</c> so both can be imported together.</remarks>
public enum HttpProtocolVersion : byte
{
    /// <summary>HTTP/1.0: connections close after each message unless keep-alive is asked for.</summary>
    Http10 = 0,

    /// <summary>HTTP/1.1 (or, in a response, a later HTTP/1.x minor version, which RFC 9110 2.5 says to treat alike).</summary>
    Http11 = 1,
}
