using System.Diagnostics;
using static Meanwhile.LinuxNative;

namespace Meanwhile.Http.Server;

/// <summary>
/// nginx's <c>open_file_cache</c> for one loop: descriptors of regular files with what their statx said, reused for
/// <see cref="StaticFileOptions.OpenFileCacheValidity"/> without a new lookup or statx, at most
/// <see cref="StaticFileOptions.OpenFileCacheEntries"/> of them. Only the loop's thread uses it.
/// </summary>
/// <remarks>
/// A cached descriptor is the file as it was opened: a file replaced by a rename (what deployments and editors do) keeps
/// being served whole, as its old version, until the entry expires; a file rewritten in place within the window may be
/// served with its old length, as with nginx. A descriptor leaves the cache when its entry expires or is evicted, and is
/// closed once the last response using it is done with it.
/// </remarks>
internal sealed class OpenFileCache(int capacity, TimeSpan validity)
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly long _validityTicks = (long)(validity.TotalSeconds * Stopwatch.Frequency);

    /// <summary>One cached descriptor.</summary>
    internal sealed class Entry(string key, int fd, FileFacts facts, long expires)
    {
        public readonly string Key = key;
        public readonly int Fd = fd;
        public readonly FileFacts Facts = facts;
        public readonly long Expires = expires;
        public int Users;
        public bool Evicted;
    }

    /// <summary>A live entry for the UTF-8 path, taken for one response (release it with <see cref="Release"/>); null on a miss.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit] // the key buffer is read only where GetChars wrote it
    public Entry? TryTake(ReadOnlySpan<byte> path)
    {
        Span<char> key = stackalloc char[path.Length];
        int length = System.Text.Encoding.UTF8.GetChars(path, key);
        if (!_entries.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key[..length], out var entry)) return null;
        if (Stopwatch.GetTimestamp() >= entry.Expires)
        {
            Evict(entry);
            return null;
        }
        entry.Users++;
        return entry;
    }

    /// <summary>Caches a descriptor just opened and statted (the cache owns it from now on) and takes it for one response.</summary>
    public Entry Add(ReadOnlySpan<byte> path, int fd, in FileFacts facts)
    {
        string key = System.Text.Encoding.UTF8.GetString(path);
        if (_entries.TryGetValue(key, out var previous)) Evict(previous);
        else if (_entries.Count >= capacity) MakeRoom();
        var entry = new Entry(key, fd, facts, Stopwatch.GetTimestamp() + _validityTicks) { Users = 1 };
        _entries[key] = entry;
        return entry;
    }

    /// <summary>A response is done with the entry's descriptor.</summary>
    public static void Release(Entry entry)
    {
        if (--entry.Users == 0 && entry.Evicted) close(entry.Fd);
    }

    private void MakeRoom()
    {
        long now = Stopwatch.GetTimestamp();
        Entry? oldest = null;
        List<Entry>? expired = null;
        foreach (var entry in _entries.Values)
        {
            if (now >= entry.Expires) (expired ??= []).Add(entry);
            else if (oldest is null || entry.Expires < oldest.Expires) oldest = entry;
        }
        if (expired is not null) foreach (var entry in expired) Evict(entry);
        else if (oldest is not null) Evict(oldest);
    }

    private void Evict(Entry entry)
    {
        _entries.Remove(entry.Key);
        entry.Evicted = true;
        if (entry.Users == 0) close(entry.Fd);
    }
}
