using static Meanwhile.Http.Server.StaticResponses;

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
/// <para>Immutable once built, so one instance serves every loop. Nothing about files is cached: each request opens
/// the file again and takes its length and validators from the open descriptor, so a changed file is never served with
/// a stale length or validator.</para>
/// <para>On Linux with the epoll reactor a request for a file the kernel has cached runs on the loop thread, as in
/// nginx: <c>openat2</c> beneath a descriptor of the root kept open (<c>RESOLVE_BENEATH</c>, so no path can lead out,
/// whatever a local user swaps meanwhile), one <c>statx</c> of the descriptor, then the head and the body in one write
/// for small files or the head then <c>sendfile</c>, then close. What the kernel has not cached never stalls the loop:
/// a lookup that would need the disk (<c>RESOLVE_CACHED</c> says so), a small body that is not in the page cache
/// (<c>preadv2</c> with <c>RWF_NOWAIT</c>), a piece of a large body not in it (<c>cachestat</c>) go to a worker thread.
/// Since the root's descriptor is kept, a root directory renamed or replaced while serving is not followed.</para>
/// <para>On the portable reactor the path is resolved and checked in managed code and the file opened and read on worker
/// threads: slower, the same answers.</para>
/// <para>A body is sent in pieces of <see cref="StaticFileOptions.SendChunkBytes"/>, each of which must reach the
/// client within <see cref="StaticFileOptions.SendChunkTimeout"/>. If the file cannot be read to the end (a disk
/// error, or it shrank) once the head is out, the connection is closed: the client sees a short body, never a wrong
/// one.</para>
/// </remarks>
public sealed class StaticFiles
{
    private readonly StaticPath _paths;
    private readonly DescriptorFileServer? _descriptors;

    /// <summary>Creates a handler for the files under <paramref name="root"/>.</summary>
    /// <param name="root">The directory to serve; its real path (links resolved) becomes <see cref="Root"/>.</param>
    /// <param name="options">Index file, listing, links, hidden files, caching; null for the defaults.</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="root"/> is not an existing directory.</exception>
    public StaticFiles(string root, StaticFileOptions? options = null)
    {
        Options = options ?? new StaticFileOptions();
        _paths = new StaticPath(root, Options.FollowSymlinksOutsideRoot, Options.ServeHiddenFiles);
        _descriptors = DescriptorFileServer.TryCreate(this, _paths);
    }

    /// <summary>The loop-thread file server (Linux, openat2), or null: for tests.</summary>
    internal DescriptorFileServer? Descriptors => _descriptors;

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
        if (_descriptors is not null && response.ConnectionStream is SocketStream { Descriptor: >= 0 } socket)
            return _descriptors.HandleAsync(request, response, socket);
        string path = "";
        var verdict = _paths.Decode(RawPath(request, Options), out string relative, out bool directoryForm);
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
        await ServeListingAsync(request, response, directory, relative);
    }

    /// <summary>A directory without an index file: its listing, or 404 when listings are off.</summary>
    internal async ValueTask ServeListingAsync(ServerRequest request, ServerResponse response, string directory, string relative)
    {
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
            var (offset, count) = WriteHead(request, response, Options, MimeTypes.GetContentTypeBytes(path), length, lastWriteUtc.Ticks);
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
}
