namespace Meanwhile;

/// <summary>
/// The platform half of a <see cref="FileDataStream"/>, beside its <see cref="PlatformStream"/>: what only a regular
/// file can do (positioned reads and writes, size, sync, zero-copy sending). A blocking descriptor on worker threads on
/// Linux; a file of the host's disk in a simulation.
/// </summary>
internal interface IPlatformFile
{
    /// <summary>Where the next sequential read or write happens (loop thread).</summary>
    long Position { get; set; }

    /// <summary>Whether the file was closed.</summary>
    bool IsClosed { get; }

    /// <summary>The file's current size.</summary>
    long GetLength();

    /// <summary>Reads at <paramref name="offset"/>; 0 at or past the end.</summary>
    Task<int> ReadAtAsync(Memory<byte> buffer, long offset, CancellationToken cancellationToken);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>.</summary>
    Task WriteAtAsync(ReadOnlyMemory<byte> data, long offset, CancellationToken cancellationToken);

    /// <summary>Truncates or extends the file.</summary>
    Task SetLengthAsync(long length, CancellationToken cancellationToken);

    /// <summary>Completes once the file's data is on the storage device.</summary>
    Task SyncAsync(CancellationToken cancellationToken);

    /// <summary>Sends <paramref name="count"/> bytes from <paramref name="offset"/> to a socket; returns how many (fewer if the file ended).</summary>
    Task<long> SendToAsync(DataStream destination, long offset, long count, CancellationToken cancellationToken);
}
