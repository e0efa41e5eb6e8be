using System.Net;

namespace Meanwhile.Http.Server;

/// <summary>Formats one request's access log line, in one of the <see cref="AccessLogFormat"/>s, without allocating.</summary>
internal static class AccessLogLine
{
    /// <summary>Writes the line, newline included; returns its length, or -1 when it does not fit in <paramref name="destination"/>.</summary>
    public static int Format(Span<byte> destination, AccessLogFormat format, LogClock clock, ServerRequest request, int status, long bytes, TimeSpan elapsed)
    {
        var line = new LogLineWriter(destination);
        if (format == AccessLogFormat.Json) Json(ref line, clock, request, status, bytes, elapsed);
        else
        {
            // $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
            Remote(ref line, request.RemoteEndPoint);
            line.Raw(" - - ["u8);
            line.Raw(clock.Local);
            line.Raw("] \""u8);
            line.Escaped(request.Method);
            line.Byte((byte)' ');
            line.Escaped(request.Target);
            line.Byte((byte)' ');
            line.Raw(Protocol(request.Version));
            line.Raw("\" "u8);
            line.Number(status);
            line.Byte((byte)' ');
            line.Number(bytes);
            if (format == AccessLogFormat.Combined)
            {
                // ... "$http_referer" "$http_user_agent"; nginx writes "-" for an absent field.
                line.Raw(" \""u8);
                Field(ref line, request, "Referer"u8);
                line.Raw("\" \""u8);
                Field(ref line, request, "User-Agent"u8);
                line.Byte((byte)'"');
            }
        }
        line.Byte((byte)'\n');
        return line.Written;
    }

    private static void Json(ref LogLineWriter line, LogClock clock, ServerRequest request, int status, long bytes, TimeSpan elapsed)
    {
        line.Raw("{\"time\":\""u8);
        line.Raw(clock.Iso8601);
        line.Raw("\",\"remote\":\""u8);
        Remote(ref line, request.RemoteEndPoint);
        line.Raw("\",\"method\":\""u8);
        line.JsonEscaped(request.Method);
        line.Raw("\",\"target\":\""u8);
        line.JsonEscaped(request.Target);
        line.Raw("\",\"protocol\":\""u8);
        line.Raw(Protocol(request.Version));
        line.Raw("\",\"status\":"u8);
        line.Number(status);
        line.Raw(",\"bytes\":"u8);
        line.Number(bytes);
        line.Raw(",\"duration_ms\":"u8);
        line.Milliseconds(elapsed.TotalMilliseconds);
        JsonField(ref line, request, ",\"referer\":"u8, "Referer"u8);
        JsonField(ref line, request, ",\"user_agent\":"u8, "User-Agent"u8);
        line.Byte((byte)'}');
    }

    private static void JsonField(ref LogLineWriter line, ServerRequest request, ReadOnlySpan<byte> key, ReadOnlySpan<byte> name)
    {
        line.Raw(key);
        if (!request.TryGetHeader(name, out var value))
        {
            line.Raw("null"u8);
            return;
        }
        line.Byte((byte)'"');
        line.JsonEscaped(value);
        line.Byte((byte)'"');
    }

    private static void Field(ref LogLineWriter line, ServerRequest request, ReadOnlySpan<byte> name)
    {
        if (request.TryGetHeader(name, out var value)) line.Escaped(value);
        else line.Byte((byte)'-');
    }

    private static void Remote(ref LogLineWriter line, EndPoint? remote)
    {
        Span<byte> text = stackalloc byte[64];
        if (remote is IPEndPoint ip && ip.Address.TryFormat(text, out int n)) line.Raw(text[..n]);
        else line.Byte((byte)'-');
    }

    private static ReadOnlySpan<byte> Protocol(HttpProtocolVersion version) => version == HttpProtocolVersion.Http10 ? "HTTP/1.0"u8 : "HTTP/1.1"u8;
}
