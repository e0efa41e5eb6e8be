using System.Buffers;
using System.Runtime.CompilerServices;

namespace Meanwhile.Http;

/// <summary>A slice of <see cref="HeadStore"/> bytes, by offset, so it stays valid when the store grows.</summary>
internal readonly record struct Segment(int Start, int Length);

/// <summary>Where one field line's name and (trimmed) value sit in the store.</summary>
internal readonly record struct FieldEntry(Segment Name, Segment Value);

/// <summary>
/// The bytes of one message's head (start line, header and trailer field lines, as received) and the
/// positions of its parts. The parser copies head bytes here because a caller's read buffer does not
/// outlive the read, while the head must (an echo, a router, a handler read it later).
/// </summary>
/// <remarks>
/// Bytes come from the shared pool and are reused message after message, so a warm connection allocates nothing. The
/// first <see cref="InlineFields"/> field entries live in the store itself (a short head, as most are, needs no array:
/// ten thousand heads held at once would each miss the shared pool's small bucket and allocate sixteen entries); a
/// longer head moves them to a pooled array.
/// </remarks>
internal sealed class HeadStore
{
    private const int InitialBytes = 1024;
    private const int InitialFields = 16;
    private const int InlineFields = 4;

    private byte[] _bytes = [];
    private InlineFieldEntries _inline;
    private FieldEntry[]? _fields; // null while the fields fit inline

    /// <summary>Bytes stored so far.</summary>
    internal int Length { get; private set; }

    /// <summary>Field lines of the header section.</summary>
    internal int HeaderCount { get; private set; }

    /// <summary>Field lines of the trailer section (stored after the header fields).</summary>
    internal int TrailerCount { get; private set; }

    /// <summary>The stored bytes at <paramref name="segment"/>.</summary>
    internal ReadOnlySpan<byte> this[Segment segment] => _bytes.AsSpan(segment.Start, segment.Length);

    /// <summary>The field line <paramref name="entry"/> locates, as spans of the store.</summary>
    internal HttpField Field(in FieldEntry entry)
    {
        var bytes = _bytes.AsSpan(0, Length);
        return new HttpField(bytes.Slice(entry.Name.Start, entry.Name.Length), bytes.Slice(entry.Value.Start, entry.Value.Length));
    }

    /// <summary>The stored bytes from <paramref name="start"/>, <paramref name="length"/> long.</summary>
    internal ReadOnlySpan<byte> Slice(int start, int length) => _bytes.AsSpan(start, length);

    /// <summary>The field entry at <paramref name="index"/> (headers first, then trailers).</summary>
    internal ref readonly FieldEntry Field(int index) => ref _fields is null ? ref _inline[index] : ref _fields[index];

    /// <summary>Copies <paramref name="data"/> to the end of the store.</summary>
    internal void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        int needed = Length + data.Length;
        if (needed > _bytes.Length)
        {
            Grow(needed);
        }

        data.CopyTo(_bytes.AsSpan(Length));
        Length = needed;
    }

    /// <summary>
    /// Before the first bytes of a message: rents the byte buffer for the <paramref name="available"/> bytes of input
    /// at hand (at most <c>InitialBytes</c>), since a head that arrives whole fits in it. Ten thousand requests waiting
    /// at once on a server then each hold a buffer the size of their head, not a kilobyte; a head that arrives in pieces
    /// grows it as before.
    /// </summary>
    internal void Reserve(int available)
    {
        if (_bytes.Length == 0)
        {
            _bytes = ArrayPool<byte>.Shared.Rent(Math.Clamp(available, 1, InitialBytes));
        }
    }

    /// <summary>Drops stored bytes from <paramref name="length"/> on (used to forget empty lines before a request line).</summary>
    internal void Truncate(int length) => Length = length;

    /// <summary>Records a header field line.</summary>
    internal void AddHeader(FieldEntry entry)
    {
        AddEntry(HeaderCount, entry);
        HeaderCount++;
    }

    /// <summary>Records a trailer field line.</summary>
    internal void AddTrailer(FieldEntry entry)
    {
        AddEntry(HeaderCount + TrailerCount, entry);
        TrailerCount++;
    }

    /// <summary>Forgets the previous message; keeps the buffers for the next one.</summary>
    internal void Clear()
    {
        Length = 0;
        HeaderCount = 0;
        TrailerCount = 0;
    }

    /// <summary>Returns the byte buffer to the pool (an idle connection then holds no head memory).</summary>
    internal void Release()
    {
        Clear();
        byte[] old = _bytes;
        _bytes = [];
        if (old.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(old);
        }

        // Pooled too: a keep-alive connection releases its head storage at every idle wait.
        FieldEntry[]? oldFields = _fields;
        _fields = null;
        if (oldFields is not null)
        {
            ArrayPool<FieldEntry>.Shared.Return(oldFields);
        }
    }

    private void AddEntry(int index, FieldEntry entry)
    {
        if (_fields is null && index < InlineFields)
        {
            _inline[index] = entry;
            return;
        }

        if (_fields is null || index == _fields.Length)
        {
            FieldEntry[] larger = ArrayPool<FieldEntry>.Shared.Rent(Math.Max(InitialFields, (_fields?.Length ?? InlineFields) * 2));
            if (_fields is null)
            {
                ((ReadOnlySpan<FieldEntry>)_inline).Slice(0, index).CopyTo(larger);
            }
            else
            {
                _fields.AsSpan(0, index).CopyTo(larger);
                ArrayPool<FieldEntry>.Shared.Return(_fields);
            }

            _fields = larger;
        }

        _fields[index] = entry;
    }

    /// <summary>The first field entries of a head, in the store itself.</summary>
    [InlineArray(InlineFields)]
    private struct InlineFieldEntries
    {
        private FieldEntry _first;
    }

    private void Grow(int needed)
    {
        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(InitialBytes, _bytes.Length * 2)));
        _bytes.AsSpan(0, Length).CopyTo(larger);
        byte[] old = _bytes;
        _bytes = larger;
        if (old.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(old);
        }
    }
}
