namespace Meanwhile.Http.Server;

/// <summary>The line format of an <see cref="AccessLog"/>.</summary>
public enum AccessLogFormat : byte
{
    /// <summary>
    /// The Common Log Format, nginx's and Apache's <c>common</c>:
    /// <c>127.0.0.1 - - [06/Dec/2026:13:40:00 +0000] "GET /index.html HTTP/1.1" 200 13</c>.
    /// </summary>
    Common,

    /// <summary>nginx's default <c>combined</c>: <see cref="Common"/> followed by the quoted Referer and User-Agent.</summary>
    Combined,

    /// <summary>
    /// One JSON object per line: <c>time</c> (ISO 8601), <c>remote</c>, <c>method</c>, <c>target</c>, <c>protocol</c>,
    /// <c>status</c>, <c>bytes</c>, <c>duration_ms</c>, <c>referer</c>, <c>user_agent</c>.
    /// </summary>
    Json,
}
