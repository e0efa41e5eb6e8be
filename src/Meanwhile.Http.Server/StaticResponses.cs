using System.Buffers.Text;

namespace Meanwhile.Http.Server;

/// <summary>
/// What every way of serving a static file answers alike: the head with its validators, conditional answers (304) and
/// byte ranges (206, 416), the directory redirect, the plain error answers, and the request's path below the root.
/// </summary>
internal static class StaticResponses
{
    private const int ETagCapacity = 2 + 16 + 1 + 16; // quotes, hex ticks, dash, hex length

    /// <summary>Sets status and header fields; returns the byte range to send, or a count of -1 for no body.</summary>
    public static (long Offset, long Count) WriteHead(ServerRequest request, ServerResponse response, StaticFileOptions options, ReadOnlySpan<byte> contentType, long length, long modifiedTicks)
    {
        // Validators: HTTP dates have whole seconds, so comparisons use the truncated time; the entity-tag keeps the
        // full resolution (100 ns ticks) with the length, as nginx's "mtime-length": strong enough for a file that is
        // replaced rather than edited in place within one tick.
        var lastModified = new DateTimeOffset(modifiedTicks - modifiedTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var validators = ValidatorLines.For(modifiedTicks, length);
        var etag = validators.ETag;
        response.AddCheckedFieldLine(validators.Lines); // ETag and Last-Modified
        if (options.CacheControl is { } cacheControl) response.AddHeader("Cache-Control", cacheControl);

        // RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since only without it.
        var conditions = new RequestConditions(request);
        bool notModified = conditions.HasNoneMatch
            ? HttpValidators.NoneMatchHits(conditions.NoneMatch, etag)
            : conditions.HasModifiedSince && HttpValidators.NotModifiedSince(conditions.ModifiedSince, lastModified);
        if (notModified)
        {
            response.StatusCode = 304;
            return (0, -1);
        }

        response.AddCheckedFieldLine("Accept-Ranges: bytes\r\n"u8);
        // Range is defined for GET only (RFC 9110 14.2); a failed If-Range means "send it all".
        var range = RangeVerdict.Whole;
        long first = 0, last = length - 1;
        if (conditions.HasRange && request.MethodIs("GET"u8)
            && (!conditions.HasIfRange || HttpValidators.IfRangeHolds(conditions.IfRange, etag, lastModified)))
            range = HttpValidators.ParseRange(conditions.Range, length, out first, out last);

        Span<byte> contentRange = stackalloc byte[6 + 20 + 1 + 20 + 1 + 20];
        if (range == RangeVerdict.Unsatisfiable)
        {
            response.StatusCode = 416;
            "bytes */"u8.CopyTo(contentRange);
            Utf8Formatter.TryFormat(length, contentRange[8..], out int n);
            response.AddHeader("Content-Range"u8, contentRange[..(8 + n)]);
            response.ContentLength = 0;
            return (0, -1);
        }
        response.AddCheckedField("Content-Type"u8, contentType); // from MimeTypes' table: checked when it was built
        if (range == RangeVerdict.Whole) return (0, length);

        response.StatusCode = 206;
        "bytes "u8.CopyTo(contentRange);
        int at = 6;
        Utf8Formatter.TryFormat(first, contentRange[at..], out int written);
        at += written;
        contentRange[at++] = (byte)'-';
        Utf8Formatter.TryFormat(last, contentRange[at..], out written);
        at += written;
        contentRange[at++] = (byte)'/';
        Utf8Formatter.TryFormat(length, contentRange[at..], out written);
        at += written;
        response.AddHeader("Content-Range"u8, contentRange[..at]);
        return (first, last - first + 1);
    }

    /// <summary>
    /// The request's If-None-Match, If-Modified-Since, Range and If-Range (the first of each, as
    /// <see cref="ServerRequest.TryGetHeader"/> gives), found in one pass over its fields rather than one per name.
    /// </summary>
    private readonly ref struct RequestConditions
    {
        public readonly ReadOnlySpan<byte> NoneMatch, ModifiedSince, Range, IfRange;
        public readonly bool HasNoneMatch, HasModifiedSince, HasRange, HasIfRange;

        public RequestConditions(ServerRequest request)
        {
            foreach (var field in request.Head.Fields)
            {
                var name = field.Name;
                switch (name.Length) // by length first: most fields are none of these
                {
                    case 5 when !HasRange && HttpField.EqualsIgnoreCase(name, "Range"u8):
                        HasRange = true;
                        Range = field.Value;
                        break;
                    case 8 when !HasIfRange && HttpField.EqualsIgnoreCase(name, "If-Range"u8):
                        HasIfRange = true;
                        IfRange = field.Value;
                        break;
                    case 13 when !HasNoneMatch && HttpField.EqualsIgnoreCase(name, "If-None-Match"u8):
                        HasNoneMatch = true;
                        NoneMatch = field.Value;
                        break;
                    case 17 when !HasModifiedSince && HttpField.EqualsIgnoreCase(name, "If-Modified-Since"u8):
                        HasModifiedSince = true;
                        ModifiedSince = field.Value;
                        break;
                }
            }
        }
    }

    /// <summary>
    /// The <c>ETag</c> and <c>Last-Modified</c> field lines of the file this thread answered last, formatted once: a file
    /// is served again and again unchanged, and formatting and checking them on every request was most of the head's cost.
    /// Keyed by what they are made of (modification time and length), so a changed file gets new ones. Each loop has its
    /// own thread, so no locks.
    /// </summary>
    private sealed class ValidatorLines
    {
        private const int ETagStart = 6; // "ETag: "
        private const int Capacity = ETagStart + ETagCapacity + 2 + 15 + HttpValidators.DateLength + 2;

        [ThreadStatic] private static ValidatorLines? s_last;

        private readonly byte[] _lines = new byte[Capacity];
        private long _ticks;
        private long _length = -1;
        private int _etagLength;
        private int _linesLength;

        public ReadOnlySpan<byte> Lines => _lines.AsSpan(0, _linesLength);

        public ReadOnlySpan<byte> ETag => _lines.AsSpan(ETagStart, _etagLength);

        public static ValidatorLines For(long modifiedTicks, long length)
        {
            var lines = s_last ??= new ValidatorLines();
            if (lines._ticks != modifiedTicks || lines._length != length) lines.Format(modifiedTicks, length);
            return lines;
        }

        private void Format(long modifiedTicks, long length)
        {
            var span = _lines.AsSpan();
            "ETag: "u8.CopyTo(span);
            _etagLength = FormatETag(span[ETagStart..], modifiedTicks, length);
            int at = ETagStart + _etagLength;
            "\r\nLast-Modified: "u8.CopyTo(span[at..]);
            at += 17;
            HttpValidators.FormatDate(new DateTimeOffset(modifiedTicks - modifiedTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero), span[at..]);
            at += HttpValidators.DateLength;
            "\r\n"u8.CopyTo(span[at..]);
            _linesLength = at + 2;
            _ticks = modifiedTicks;
            _length = length;
        }
    }

    private static int FormatETag(Span<byte> destination, long ticks, long length)
    {
        destination[0] = (byte)'"';
        Utf8Formatter.TryFormat(ticks, destination[1..], out int a, new System.Buffers.StandardFormat('x'));
        destination[1 + a] = (byte)'-';
        Utf8Formatter.TryFormat(length, destination[(2 + a)..], out int b, new System.Buffers.StandardFormat('x'));
        destination[2 + a + b] = (byte)'"';
        return 3 + a + b;
    }

    /// <summary>The percent-encoded path below the root: the Router's catch-all value when mounted, else the request's path.</summary>
    public static ReadOnlySpan<byte> RawPath(ServerRequest request, StaticFileOptions options) =>
        request.TryGetRouteValue(options.RouteParameter, out var routed) ? routed : OriginPath(request);

    /// <summary>The request's path in origin form (absolute-form targets lose their scheme and authority), still encoded.</summary>
    private static ReadOnlySpan<byte> OriginPath(ServerRequest request)
    {
        var path = request.Path;
        if (request.Head.TargetForm == HttpRequestTargetForm.Absolute)
        {
            // "http://host/a/b": the path starts at the first slash after the authority.
            int scheme = path.IndexOf("://"u8);
            int slash = scheme < 0 ? -1 : path[(scheme + 3)..].IndexOf((byte)'/');
            path = slash < 0 ? "/"u8 : path[(scheme + 3 + slash)..];
        }
        return path;
    }

    public static ValueTask Redirect(ServerRequest request, ServerResponse response)
    {
        // Location is the request's own path with a slash added. Leading slashes are collapsed to one: "//evil.example/"
        // would otherwise be a protocol-relative URL, an open redirect to another host.
        var path = OriginPath(request).TrimStart((byte)'/');
        var query = request.Query;
        var location = new byte[1 + path.Length + 1 + (query.IsEmpty ? 0 : 1 + query.Length)];
        location[0] = (byte)'/';
        path.CopyTo(location.AsSpan(1));
        int at = 1 + path.Length;
        location[at++] = (byte)'/';
        if (!query.IsEmpty)
        {
            location[at++] = (byte)'?';
            query.CopyTo(location.AsSpan(at));
        }
        response.StatusCode = 301;
        response.AddHeader("Location"u8, location);
        return ValueTask.CompletedTask;
    }

    public static ValueTask Refuse(ServerResponse response, PathVerdict verdict) => Refuse(response, verdict switch
    {
        PathVerdict.BadRequest => 400,
        PathVerdict.Forbidden => 403,
        _ => 404,
    });

    public static ValueTask Refuse(ServerResponse response, int status)
    {
        response.StatusCode = status;
        response.AddHeader("Content-Type"u8, "text/plain; charset=utf-8"u8);
        response.Write(HttpReasonPhrases.Get(status));
        response.Write("\n"u8);
        return ValueTask.CompletedTask;
    }
}
