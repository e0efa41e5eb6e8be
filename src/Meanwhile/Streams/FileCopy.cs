using System.Buffers;

namespace Meanwhile;

/// <summary>Sending part of a file to a socket through a pooled buffer, for platforms (or sockets) without zero-copy.</summary>
internal static class FileCopy
{
    private const int Chunk = 256 * 1024;

    public static async Task<long> SendAsync(IPlatformFile file, DataStream destination, long offset, long count, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Chunk, Math.Max(count, 1)));
        try
        {
            long sent = 0;
            while (sent < count)
            {
                int n = await file.ReadAtAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count - sent)), offset + sent, cancellationToken);
                if (n == 0) break;
                await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                sent += n;
            }
            return sent;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
