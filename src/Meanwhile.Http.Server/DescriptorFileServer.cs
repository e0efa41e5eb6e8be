using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using static Meanwhile.Http.Server.StaticResponses;
using static Meanwhile.LinuxNative;

namespace Meanwhile.Http.Server;

/// <summary>
/// <see cref="StaticFiles"/> on Linux with the epoll reactor: files opened with <c>openat2</c> beneath a descriptor of
/// the root kept open, one <c>statx</c> of the open descriptor, the body read into the response (small files: head and
/// body leave in one write) or sent with <c>sendfile</c>, then closed, all on the loop thread while the kernel's caches
/// hold what is needed. A lookup, a read or a piece of a body that would wait for the disk goes to a worker thread.
/// </summary>
/// <remarks>
/// The path is decoded into a stack buffer and the descriptor is a plain number closed on every way out, so a request
/// for a cached file allocates nothing. A descriptor a worker uses is never closed before the worker is done (its wait
/// is not cancelled), so its number cannot be reused under it.
/// <para>Stack buffers are not zeroed (<see cref="SkipLocalsInitAttribute"/>): the 4 KiB path buffer is only read where
/// written, and clearing it cost a 4 KiB memset per request.</para>
/// </remarks>
[SkipLocalsInit]
internal sealed class DescriptorFileServer
{
    /// <summary>Bodies up to this size are read into the response and leave with the head in one write.</summary>
    internal const int SmallBodyBytes = 16 * 1024;

    private const int PathCapacity = 4096; // PATH_MAX, NUL included
    private readonly StaticFiles _files;
    private readonly StaticPath _paths;
    private readonly SafeFileHandle _root;
    private readonly ulong _resolve;
    private readonly ulong _cachedOnly;
    private readonly ThreadLocal<OpenFileCache>? _openFiles; // one per loop thread

    private DescriptorFileServer(StaticFiles files, StaticPath paths, SafeFileHandle root, ulong resolve, ulong cachedOnly)
    {
        _files = files;
        _paths = paths;
        _root = root;
        _resolve = resolve;
        _cachedOnly = cachedOnly;
        var options = files.Options;
        if (options.OpenFileCacheEntries > 0)
            _openFiles = new(() => new OpenFileCache(options.OpenFileCacheEntries, options.OpenFileCacheValidity));
    }

    /// <summary>Test hook: behave as if no lookup and no page were cached, so every open, read and piece goes to a worker.</summary>
    internal static bool AssumeNothingCached { get; set; }

    /// <summary>Test hook: how many times this server asked the kernel (cachestat) whether a piece was cached.</summary>
    internal int CacheChecks => Volatile.Read(ref _cacheChecks);

    private int _cacheChecks; // written by the loop threads only for the test's count: a lost increment does not matter there

    /// <summary>Test hook: runs on the worker before each read of a file the page cache lacked (a test holds one there).</summary>
    internal static Action? BeforeWorkerRead { get; set; }

    /// <summary>Opens the root for this path; null where it cannot work (not Linux, no openat2), and the portable path serves.</summary>
    public static DescriptorFileServer? TryCreate(StaticFiles files, StaticPath paths)
    {
        if (!OperatingSystem.IsLinux()) return null;
        int fd;
        while ((fd = open(paths.Root, O_PATH | O_CLOEXEC, 0)) < 0 && LastErrno == Errno.EINTR) { }
        if (fd < 0) return null;
        var root = new SafeFileHandle(fd, ownsHandle: true);
        ulong resolve = files.Options.FollowSymlinksOutsideRoot ? RESOLVE_NO_MAGICLINKS : RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        // Probe once: ENOSYS before Linux 5.6 (no openat2: the portable path), EINVAL before 5.12 (no RESOLVE_CACHED:
        // lookups then run on the loop, as nginx's do).
        int probe = OpenForReading(fd, ".\0"u8, resolve | RESOLVE_CACHED);
        int errno = LastErrno;
        if (probe >= 0) close(probe);
        else if (errno == Errno.ENOSYS)
        {
            root.Dispose();
            return null;
        }
        return new DescriptorFileServer(files, paths, root, resolve, probe >= 0 || errno != Errno.EINVAL ? RESOLVE_CACHED : 0);
    }

    private StaticFileOptions Options => _files.Options;

    private int RootDescriptor => (int)_root.DangerousGetHandle(); // kept open for the process's life: never released

    public ValueTask HandleAsync(ServerRequest request, ServerResponse response, SocketStream socket)
    {
        var raw = RawPath(request, Options);
        if (raw.Length >= PathCapacity - 16) return Refuse(response, 404); // longer than any path the kernel takes
        Span<byte> path = stackalloc byte[PathCapacity];
        var verdict = _paths.DecodeInto(raw, path, out int length, out bool directoryForm);
        if (verdict != PathVerdict.Found) return Refuse(response, verdict);
        if (length == 0) path[length++] = (byte)'.';
        return OpenAndServe(request, response, socket, path, length, directoryForm, isIndex: false);
    }

    /// <summary>From the open-file cache, or opened here if the lookup is cached, or by a worker; <paramref name="path"/> has room for a NUL after <paramref name="length"/>.</summary>
    private ValueTask OpenAndServe(ServerRequest request, ServerResponse response, SocketStream socket, Span<byte> path, int length, bool directoryForm, bool isIndex)
    {
        if (_openFiles?.Value!.TryTake(path[..length]) is { } cached)
        {
            if (directoryForm && !isIndex)
            {
                OpenFileCache.Release(cached);
                return Refuse(response, 404);
            }
            return ServeFile(request, response, socket, new OpenedFile(cached.Fd, cached), cached.Facts, MimeTypes.GetContentTypeBytes(path[..length]));
        }
        path[length] = 0;
        int fd = Open(path[..(length + 1)], cachedOnly: true, out int errno); // the NUL ends the span: the rest of the buffer is not zeroed
        if (fd < 0 && errno == Errno.EAGAIN)
            return OpenOnWorkerAsync(request, response, socket, path[..length].ToArray(), directoryForm, isIndex);
        return Serve(request, response, socket, fd, errno, path[..length], directoryForm, isIndex);
    }

    private int Open(ReadOnlySpan<byte> nulTerminated, bool cachedOnly, out int errno)
    {
        errno = 0;
        if (cachedOnly && AssumeNothingCached && _cachedOnly != 0)
        {
            errno = Errno.EAGAIN;
            return -1;
        }
        int fd = OpenForReading(RootDescriptor, nulTerminated, _resolve | (cachedOnly ? _cachedOnly : 0));
        if (fd < 0) errno = LastErrno;
        return fd;
    }

    /// <summary>The lookup needs the disk: a worker opens (never cancelled, so the descriptor it gets is always ours to close).</summary>
    private async ValueTask OpenOnWorkerAsync(ServerRequest request, ServerResponse response, SocketStream socket, byte[] path, bool directoryForm, bool isIndex)
    {
        var (fd, errno) = await EventLoop.Current.RunOnWorker(() =>
        {
            var terminated = new byte[path.Length + 1];
            path.CopyTo(terminated, 0);
            int opened = Open(terminated, cachedOnly: false, out int error);
            return (opened, error);
        });
        await Serve(request, response, socket, fd, errno, path, directoryForm, isIndex);
    }

    /// <summary>Answers with what the open gave: an error's status, a directory's redirect or index, a file.</summary>
    private ValueTask Serve(ServerRequest request, ServerResponse response, SocketStream socket, int fd, int errno,
        ReadOnlySpan<byte> path, bool directoryForm, bool isIndex)
    {
        if (fd < 0)
        {
            if (isIndex && errno is Errno.ENOENT or Errno.ENOTDIR) return ListingAsync(request, response, path[..^IndexSuffixLength()]);
            return Refuse(response, errno == Errno.EXDEV ? LinkOutOrGone(path) : StatusFor(errno));
        }
        if (StatOpenFile(fd, out var facts) < 0)
        {
            close(fd);
            return Refuse(response, 404);
        }
        if (facts.Type == S_IFREG)
        {
            if (directoryForm && !isIndex)
            {
                close(fd);
                return Refuse(response, 404); // "/file.txt/": a file is not a directory
            }
            var opened = _openFiles is null ? new OpenedFile(fd, null) : new OpenedFile(fd, _openFiles.Value!.Add(path, fd, facts));
            return ServeFile(request, response, socket, opened, facts, MimeTypes.GetContentTypeBytes(path));
        }
        close(fd);
        if (facts.Type != S_IFDIR) return Refuse(response, 403); // a FIFO, a device, a socket: nothing a client may read
        if (isIndex) return ListingAsync(request, response, path[..^IndexSuffixLength()]); // index.html is a directory
        // "/docs" must become "/docs/", or the page's relative links would resolve against the parent.
        if (!directoryForm) return Redirect(request, response);
        if (Options.IndexFile is not { } index) return ListingAsync(request, response, path);
        return ServeIndex(request, response, socket, path, index);
    }

    private int IndexSuffixLength() => 1 + System.Text.Encoding.UTF8.GetByteCount(Options.IndexFile!);

    private ValueTask ServeIndex(ServerRequest request, ServerResponse response, SocketStream socket, ReadOnlySpan<byte> directory, string index)
    {
        Span<byte> path = stackalloc byte[PathCapacity];
        directory.CopyTo(path);
        int length = directory.Length;
        path[length++] = (byte)'/';
        length += System.Text.Encoding.UTF8.GetBytes(index, path[length..]);
        if (length >= PathCapacity) return Refuse(response, 404);
        return OpenAndServe(request, response, socket, path, length, directoryForm: true, isIndex: true);
    }

    /// <summary>A directory without an index file; the listing itself resolves and reads the directory by path, on a worker, as the portable path does.</summary>
    private ValueTask ListingAsync(ServerRequest request, ServerResponse response, ReadOnlySpan<byte> directory)
    {
        if (!Options.DirectoryListing) return Refuse(response, 404);
        string relative = directory.SequenceEqual("."u8) ? "" : System.Text.Encoding.UTF8.GetString(directory);
        var verdict = _paths.Locate(_paths.Root, relative, out string real);
        if (verdict != PathVerdict.Found) return Refuse(response, verdict);
        return _files.ServeListingAsync(request, response, real, relative);
    }

    /// <summary>
    /// EXDEV from the scoped open means the walk ended outside the root: a link leading out (403), or the file renamed
    /// out of the root while the kernel walked to it, so nothing is there any more (404). The managed walk tells which.
    /// </summary>
    private int LinkOutOrGone(ReadOnlySpan<byte> path) =>
        _paths.Locate(_paths.Root, System.Text.Encoding.UTF8.GetString(path), out _) == PathVerdict.Forbidden ? 403 : 404;

    private static int StatusFor(int errno) => errno switch
    {
        Errno.EACCES or Errno.EPERM => 403,
        Errno.ENXIO => 403, // a Unix domain socket
        Errno.EMFILE or Errno.ENFILE => 503,
        _ => 404, // ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG: no such file under the root
    };

    /// <summary>Head and body for an open regular file; done with <paramref name="file"/> on every way out.</summary>
    private ValueTask ServeFile(ServerRequest request, ServerResponse response, SocketStream socket, OpenedFile file, in FileFacts facts, ReadOnlySpan<byte> contentType)
    {
        int fd = file.Fd;
        (long offset, long count) range;
        try
        {
            range = WriteHead(request, response, Options, contentType, facts.Size, facts.ModifiedTicks);
        }
        catch
        {
            file.Done();
            throw;
        }
        var (offset, count) = range;
        if (count < 0 || count == 0 || request.IsHead)
        {
            file.Done();
            if (count >= 0) response.ContentLength = count; // HEAD: the length the body would have
            return ValueTask.CompletedTask;
        }
        if (count <= SmallBodyBytes)
        {
            // Head and body in one write: the body is read into the response, from the page cache or not at all here.
            var body = ((IBufferWriter<byte>)response).GetSpan((int)count)[..(int)count];
            nint n = AssumeNothingCached ? -1 : ReadCached(fd, body, offset);
            if (n == count)
            {
                ((IBufferWriter<byte>)response).Advance((int)count);
                file.Done();
                return ValueTask.CompletedTask;
            }
            return ReadOnWorkerAsync(response, file, offset, (int)count, Math.Max(0, (int)n));
        }
        return SendAsync(request, response, socket, file, facts, offset, count);
    }

    /// <summary>A small body not (all) in the page cache: a worker reads the rest, then it goes out with the head.</summary>
    private static async ValueTask ReadOnWorkerAsync(ServerResponse response, OpenedFile file, long offset, int count, int cached)
    {
        int fd = file.Fd;
        try
        {
            var buffer = new byte[count - cached];
            int read = await EventLoop.Current.RunOnWorker(() =>
            {
                BeforeWorkerRead?.Invoke();
                return ReadAt(fd, buffer, offset + cached);
            });
            if (read < buffer.Length)
                throw new IOException($"A file of {count} bytes ended at byte {cached + read}: it shrank while being read.");
            ((IBufferWriter<byte>)response).Advance(cached); // the part read from the cache is already in place
            response.Write(buffer);
        }
        finally
        {
            file.Done();
        }
    }

    /// <summary>
    /// The head, then the body with sendfile in pieces, without an async frame while the socket takes everything at once
    /// and the page cache holds each piece (the usual case: nothing here waits); from the first wait on,
    /// <see cref="SendRestAsync"/> carries on. Done with <paramref name="file"/> on every way out.
    /// </summary>
    private ValueTask SendAsync(ServerRequest request, ServerResponse response, SocketStream socket, OpenedFile file, in FileFacts facts, long offset, long count)
    {
        int fd = file.Fd;
        long position = offset, pieceEnd = offset, end = offset + count;
        ValueTask head;
        try
        {
            request.Aborted.ThrowIfCancellationRequested();
            head = response.StartRawBody(count, socket); // the head shares the body's first segment
            if (head.IsCompletedSuccessfully)
            {
                head.GetAwaiter().GetResult();
                if (response.RawBodyForbidden) position = end; // as SendRestAsync: the head alone (never the case from Serve today)
                while (position < end)
                {
                    if (!IsCached(fd, facts, position, Math.Min(end - position, Options.SendChunkBytes))) break;
                    pieceEnd = position + Math.Min(end - position, Options.SendChunkBytes);
                    if (!PieceSender.SendUntilFull(socket, fd, ref position, pieceEnd)) break;
                }
                if (position == end)
                {
                    file.Done();
                    return ValueTask.CompletedTask;
                }
                head = default;
            }
        }
        catch
        {
            file.Done();
            throw;
        }
        return SendRestAsync(request, response, socket, file, facts, head, position, pieceEnd, end);
    }

    /// <summary>
    /// What <see cref="SendAsync"/> could not send at once: waits for the head, finishes the piece the socket took part of
    /// (<paramref name="position"/> to <paramref name="pieceEnd"/>) under its timeout, then sends the remaining pieces, a
    /// piece the page cache lacks read in by a worker first.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendRestAsync(ServerRequest request, ServerResponse response, SocketStream socket, OpenedFile file, FileFacts facts, ValueTask head,
        long position, long pieceEnd, long end)
    {
        int fd = file.Fd;
        try
        {
            await head;
            if (response.RawBodyForbidden) return;
            var stream = response.ConnectionStream;
            if (position < pieceEnd)
                await PieceSender.WaitAndSendAsync(stream, socket, fd, position, pieceEnd, pieceEnd - position, Options.SendChunkTimeout, request);
            position = pieceEnd;
            while (position < end)
            {
                long piece = Math.Min(end - position, Options.SendChunkBytes);
                if (!IsCached(fd, facts, position, piece)) await WarmOnWorkerAsync(fd, position, piece);
                await PieceSender.SendAsync(stream, socket, fd, position, piece, Options.SendChunkTimeout, request);
                position += piece;
            }
        }
        finally
        {
            file.Done();
        }
    }

    /// <summary>
    /// Whether the page cache holds the piece, so the loop's sendfile will not wait for the disk: cachestat, unless this
    /// thread found the whole file cached within <see cref="PageCacheMemo.Window"/> (the bound is documented there).
    /// </summary>
    private bool IsCached(int fd, in FileFacts facts, long position, long length)
    {
        if (AssumeNothingCached) return false;
        var clock = EventLoop.Current.Time;
        long now = clock.GetTimestamp();
        if (PageCacheMemo.IsWhollyCached(facts, clock, now)) return true;
        _cacheChecks++;
        if (!IsRangeCached(fd, position, length)) return false;
        if (position == 0 && length >= facts.Size) PageCacheMemo.NoteWhollyCached(facts, clock, now);
        return true;
    }

    /// <summary>Reads a range on a worker so that the page cache holds it and the loop's sendfile does not wait for the disk.</summary>
    private static Task WarmOnWorkerAsync(int fd, long offset, long count) => EventLoop.Current.RunOnWorker(() =>
    {
        BeforeWorkerRead?.Invoke();
        var scratch = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            for (long done = 0; done < count;)
            {
                int n = ReadAt(fd, scratch.AsSpan(0, (int)Math.Min(scratch.Length, count - done)), offset + done);
                if (n <= 0) return; // the end (or an error): sendfile finds it and says so
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    });

    /// <summary>A descriptor a response uses: its own (closed when done) or an open-file cache entry's (released when done).</summary>
    private readonly record struct OpenedFile(int Fd, OpenFileCache.Entry? Cached)
    {
        public void Done()
        {
            if (Cached is null) close(Fd);
            else OpenFileCache.Release(Cached);
        }
    }
}
