using System.Buffers.Text;

namespace Meanwhile.Http.Server;

/// <summary>
/// Serves the files of one directory: <c>index.html</c> for directories, <c>Content-Type</c> from <see cref="MimeTypes"/>,
/// <c>ETag</c> and <c>Last-Modified</c> with <c>If-None-Match</c> / <c>If-Modified-Since</c> (304), one byte range per
/// request (206, 416; several ranges get the whole file), HEAD, and bodies sent with sendfile(2). Only GET and HEAD
/// (405 otherwise). Requests can never reach a file outside the root; see <see cref="StaticFileOptions"/> for links.
/// </summary>
/// <example>
/// <code>
/// var files = new StaticFiles("/srv/www");
/// await using var server = new HttpServer(files.HandleAsync);          // the whole site
/// // or under a prefix:
/// var router = new Router().MapGet("/assets/{*path}", files.HandleAsync);
/// </code>
/// </example>
/// <remarks>
/// <para>Immutable once built, so one instance serves every loop. Nothing about files is cached: each request resolves
/// its path and stats the file again (a few microseconds against the dentry cache), so a changed file is never
/// served with a stale length or validator, and there is no cache to bound or invalidate.</para>
/// <para>Path resolution and stat run on the loop thread, as in nginx: they hit the kernel's caches; a cold lookup
/// waits for the disk. Opening the file and (on the portable reactor) reading it run on worker threads.</para>
/// <para>Every non-empty body goes out with <see cref="FileDataStream.SendToAsync"/> after
/// <see cref="ServerResponse.StartRawBodyAsync"/>, small files too: reading a small file into the response would cost
/// a second worker round trip (the read) to save one write of the head, and a worker round trip costs more than a
/// system call. A body is sent in pieces of <see cref="StaticFileOptions.SendChunkBytes"/>, each of which must reach
/// the client within <see cref="StaticFileOptions.SendChunkTimeout"/>. If the file cannot be read to the end (a disk
/// error, or it shrank), the head is already out, so the connection is closed: the client sees a short body, never a
/// wrong one.</para>
/// </remarks>
public sealed class StaticFiles
{
    private const int ETagCapacity = 2 + 16 + 1 + 16; // quotes, hex ticks, dash, hex length
    private readonly StaticPath _paths;

    /// <summary>Creates a handler for the files under <paramref name="root"/>.</summary>
    /// <param name="root">The directory to serve; its real path (links resolved) becomes <see cref="Root"/>.</param>
    /// <param name="options">Index file, listing, links, hidden files, caching; null for the defaults.</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="root"/> is not an existing directory.</exception>
    public StaticFiles(string root, StaticFileOptions? options = null)
    {
        Options = options ?? new StaticFileOptions();
        _paths = new StaticPath(root, Options.FollowSymlinksOutsideRoot, Options.ServeHiddenFiles);
    }

    /// <summary>The served directory's real path.</summary>
    public string Root => _paths.Root;

    /// <summary>The options this handler runs with.</summary>
    public StaticFileOptions Options { get; }

    /// <summary>The handler: pass <c>files.HandleAsync</c> to an <see cref="HttpServer"/> or a <see cref="Router"/> route.</summary>
    /// <param name="request">The request.</param>
    /// <param name="response">The response.</param>
    public ValueTask HandleAsync(ServerRequest request, ServerResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        if (!request.MethodIs("GET"u8) && !request.IsHead)
        {
            response.AddHeader("Allow"u8, "GET, HEAD"u8);
            return Refuse(response, 405);
        }
        string path = "";
        var verdict = _paths.Decode(RawPath(request), out string relative, out bool directoryForm);
        if (verdict == PathVerdict.Found) verdict = _paths.Locate(_paths.Root, relative, out path);
        if (verdict != PathVerdict.Found) return Refuse(response, verdict);

        var info = new FileInfo(path);
        var attributes = info.Attributes; // one stat; -1 when nothing is there
        if ((int)attributes == -1) return Refuse(response, 404);
        if ((attributes & FileAttributes.Directory) != 0)
        {
            // "/docs" must become "/docs/", or the page's relative links would resolve against the parent.
            if (!directoryForm) return Redirect(request, response);
            return ServeDirectoryAsync(request, response, path, relative);
        }
        if (directoryForm) return Refuse(response, 404); // "/file.txt/": a file is not a directory
        return ServeFileAsync(request, response, path, info.LastWriteTimeUtc);
    }

    private async ValueTask ServeDirectoryAsync(ServerRequest request, ServerResponse response, string directory, string relative)
    {
        if (Options.IndexFile is { } index)
        {
            var verdict = _paths.Locate(directory, index, out string indexPath);
            if (verdict == PathVerdict.Forbidden)
            {
                await Refuse(response, 403);
                return;
            }
            if (verdict == PathVerdict.Found)
            {
                var info = new FileInfo(indexPath);
                var attributes = info.Attributes;
                if ((int)attributes != -1 && (attributes & FileAttributes.Directory) == 0)
                {
                    await ServeFileAsync(request, response, indexPath, info.LastWriteTimeUtc);
                    return;
                }
            }
        }
        if (!Options.DirectoryListing)
        {
            await Refuse(response, 404);
            return;
        }
        string title = relative.Length == 0 ? "/" : "/" + relative + "/";
        bool showHidden = Options.ServeHiddenFiles;
        byte[] page;
        try
        {
            // Reading a directory is blocking file-system work: a worker does it.
            page = await EventLoop.Current.RunOnWorker(() => DirectoryListing.Render(directory, title, showHidden, relative.Length == 0), request.Aborted);
        }
        catch (UnauthorizedAccessException)
        {
            await Refuse(response, 403);
            return;
        }
        response.AddHeader("Content-Type"u8, "text/html; charset=utf-8"u8);
        if (Options.CacheControl is { } cacheControl) response.AddHeader("Cache-Control", cacheControl);
        response.Write(page);
    }

    private async ValueTask ServeFileAsync(ServerRequest request, ServerResponse response, string path, DateTime lastWriteUtc)
    {
        FileDataStream file;
        try
        {
            // Unless links may leave the root, the open itself enforces the root (openat2 RESOLVE_BENEATH): the path was
            // checked above, but a local user could swap a directory for a link between that check and this open.
            file = Options.FollowSymlinksOutsideRoot
                ? await DataStream.OpenFileAsync(path, FileMode.Open, FileAccess.Read, request.Aborted)
                : await DataStream.OpenFileBeneathAsync(Root, Path.GetRelativePath(Root, path), request.Aborted);
        }
        catch (PathOutsideDirectoryException)
        {
            // Since the check, a component became a link out of the root, or the file was moved out of it while being
            // opened: either way no such file is in the root now.
            await Refuse(response, 404);
            return;
        }
        catch (PathNotFoundException)
        {
            await Refuse(response, 404); // removed since the stat
            return;
        }
        catch (PermissionDeniedException)
        {
            await Refuse(response, 403);
            return;
        }
        catch (InvalidOperationException)
        {
            await Refuse(response, 403); // a FIFO or a device under the root: never opened for reading by a client
            return;
        }
        catch (SystemCallException e) when (e.ErrorName is "ENXIO")
        {
            await Refuse(response, 403); // a Unix domain socket under the root: nothing to read either
            return;
        }
        catch (SystemCallException e) when (e.ErrorName is "EISDIR")
        {
            await Refuse(response, 404); // replaced by a directory since the stat: the file asked for is not there
            return;
        }
        await using (file)
        {
            // The length comes from the open descriptor: what will be sent, whatever happened to the path meanwhile.
            long length = file.Length;
            var (offset, count) = WriteHead(request, response, path, length, lastWriteUtc);
            if (count < 0) return; // 304 or 416: no body
            if (count == 0 || request.IsHead)
            {
                response.ContentLength = count; // HEAD: the length the body would have; the head goes out with the rest
                return;
            }
            var stream = await response.StartRawBodyAsync(count, request.Aborted);
            if (stream is not null) await SendAsync(file, stream, offset, count, request.Aborted);
        }
    }

    /// <summary>Sets status and header fields; returns the byte range to send, or a count of -1 for no body.</summary>
    private (long Offset, long Count) WriteHead(ServerRequest request, ServerResponse response, string path, long length, DateTime lastWriteUtc)
    {
        // Validators: HTTP dates have whole seconds, so comparisons use the truncated time; the entity-tag keeps the
        // full resolution (100 ns ticks) with the length, as nginx's "mtime-length": strong enough for a file that is
        // replaced rather than edited in place within one tick.
        var lastModified = new DateTimeOffset(lastWriteUtc.Ticks - lastWriteUtc.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        Span<byte> etag = stackalloc byte[ETagCapacity];
        int etagLength = FormatETag(etag, lastWriteUtc.Ticks, length);
        etag = etag[..etagLength];
        Span<byte> date = stackalloc byte[HttpValidators.DateLength];
        HttpValidators.FormatDate(lastModified, date);

        response.AddHeader("ETag"u8, etag);
        response.AddHeader("Last-Modified"u8, date);
        if (Options.CacheControl is { } cacheControl) response.AddHeader("Cache-Control", cacheControl);

        // RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since only without it.
        bool notModified = request.TryGetHeader("If-None-Match"u8, out var noneMatch)
            ? HttpValidators.NoneMatchHits(noneMatch, etag)
            : request.TryGetHeader("If-Modified-Since"u8, out var since) && HttpValidators.NotModifiedSince(since, lastModified);
        if (notModified)
        {
            response.StatusCode = 304;
            return (0, -1);
        }

        response.AddHeader("Accept-Ranges"u8, "bytes"u8);
        // Range is defined for GET only (RFC 9110 14.2); a failed If-Range means "send it all".
        var range = RangeVerdict.Whole;
        long first = 0, last = length - 1;
        if (request.MethodIs("GET"u8) && request.TryGetHeader("Range"u8, out var rangeValue)
            && (!request.TryGetHeader("If-Range"u8, out var ifRange) || HttpValidators.IfRangeHolds(ifRange, etag, lastModified)))
            range = HttpValidators.ParseRange(rangeValue, length, out first, out last);

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
        response.AddHeader("Content-Type"u8, MimeTypes.GetContentTypeBytes(path));
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

    private async ValueTask SendAsync(FileDataStream file, DataStream socket, long offset, long count, CancellationToken aborted)
    {
        var loop = EventLoop.Current;
        var timeout = Options.SendChunkTimeout;
        long sent = 0;
        while (sent < count)
        {
            long piece = Math.Min(count - sent, Options.SendChunkBytes);
            var sending = file.SendToAsync(socket, offset + sent, piece, aborted);
            long n;
            if (sending.IsCompleted) n = await sending; // the socket took it all at once: no timer needed
            else
            {
                // The client is slower than the file: a stalled one would hold the connection forever. Closing the
                // socket ends the pending send (and makes the server drop the connection).
                bool stalled = false;
                var timer = loop.CallLater(timeout, () =>
                {
                    stalled = true;
                    // FIN first, as the server's own abort does: a bare close with a send pending can become a reset.
                    try { socket.ShutdownWrite(); }
                    catch (Exception e) when (e is SystemCallException or ObjectDisposedException or InvalidOperationException) { }
                    socket.Dispose();
                });
                try
                {
                    n = await sending;
                }
                catch (Exception e) when (stalled)
                {
                    throw new TimeoutException($"The client took no {piece} bytes of {file.Path} within {timeout.TotalSeconds} s; the connection was closed.", e);
                }
                finally
                {
                    timer.Cancel();
                }
            }
            if (n < piece)
                throw new IOException($"{file.Path} ended at byte {offset + sent + n} while {offset + count} were promised: it shrank while being sent; the connection was closed.");
            sent += n;
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
    private ReadOnlySpan<byte> RawPath(ServerRequest request)
    {
        return request.TryGetRouteValue(Options.RouteParameter, out var routed) ? routed : OriginPath(request);
    }

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

    private static ValueTask Redirect(ServerRequest request, ServerResponse response)
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

    private static ValueTask Refuse(ServerResponse response, PathVerdict verdict) => Refuse(response, verdict switch
    {
        PathVerdict.BadRequest => 400,
        PathVerdict.Forbidden => 403,
        _ => 404,
    });

    private static ValueTask Refuse(ServerResponse response, int status)
    {
        response.StatusCode = status;
        response.AddHeader("Content-Type"u8, "text/plain; charset=utf-8"u8);
        response.Write(HttpReasonPhrases.Get(status));
        response.Write("\n"u8);
        return ValueTask.CompletedTask;
    }
}
