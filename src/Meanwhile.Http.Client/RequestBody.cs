namespace Meanwhile.Http.Client;

/// <summary>
/// The content of a request: bytes in memory (sent with Content-Length, replayable on a redirect or a retry)
/// or a stream read as it is sent (Content-Length when its length is known, chunked otherwise).
/// </summary>
public sealed class RequestBody
{
    private readonly long _streamStart;

    private RequestBody(ReadOnlyMemory<byte> bytes, Stream? stream, long? length)
    {
        Bytes = bytes;
        Stream = stream;
        Length = length;
        _streamStart = stream is { CanSeek: true } ? stream.Position : -1;
    }

    /// <summary>The bytes, when the body is in memory.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>The stream, when the body is read as it is sent.</summary>
    public Stream? Stream { get; }

    /// <summary>The body length, or null when unknown (sent chunked).</summary>
    public long? Length { get; }

    /// <summary>True when the body can be sent again (a 307/308 redirect, a retry on a stale connection).</summary>
    public bool IsReplayable => Stream is null || _streamStart >= 0;

    /// <summary>A body of bytes in memory.</summary>
    /// <param name="bytes">The content.</param>
    /// <returns>The body.</returns>
    public static RequestBody FromBytes(ReadOnlyMemory<byte> bytes) => new(bytes, null, bytes.Length);

    /// <summary>A UTF-8 text body.</summary>
    /// <param name="text">The content.</param>
    /// <returns>The body.</returns>
    public static RequestBody FromString(string text) => FromBytes(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>A body read from <paramref name="stream"/> while it is sent, with backpressure: the next read waits until the connection took the previous bytes.</summary>
    /// <param name="stream">The content; read from its current position. The caller disposes it.</param>
    /// <param name="length">Its length when known (Content-Length); null sends it chunked. A seekable stream's remaining length is used when null.</param>
    /// <returns>The body.</returns>
    public static RequestBody FromStream(Stream stream, long? length = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (length is null && stream.CanSeek)
        {
            length = stream.Length - stream.Position;
        }

        return new(default, stream, length);
    }

    /// <summary>Rewinds a seekable stream body to where it started, before sending it again.</summary>
    internal void Rewind()
    {
        if (Stream is not null && _streamStart >= 0)
        {
            Stream.Position = _streamStart;
        }
    }
}
