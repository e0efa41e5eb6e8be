using System.Buffers;
using Meanwhile.Http;

namespace Meanwhile.Http.Client;

/// <summary>Sends request bodies: bytes as they are, streams piece by piece (Content-Length or chunked) with backpressure.</summary>
internal static class RequestBodyWriter
{
    private const int PieceSize = 16 * 1024;

    /// <summary>Bodies up to this size travel in the same write as the head.</summary>
    public const int InlineLimit = 16 * 1024;

    /// <summary>Writes <paramref name="body"/> to <paramref name="output"/>; each piece is written (handed to the kernel) before the next is read.</summary>
    /// <param name="output">The connection.</param>
    /// <param name="body">The body.</param>
    /// <param name="scratch">A writer to frame chunks in; its content is replaced.</param>
    /// <param name="token">Cancels the send.</param>
    public static async Task WriteAsync(Stream output, RequestBody body, PooledByteBuffer scratch, CancellationToken token)
    {
        if (body.Stream is not { } source)
        {
            await output.WriteAsync(body.Bytes, token);
            return;
        }

        byte[] piece = ArrayPool<byte>.Shared.Rent(PieceSize);
        try
        {
            if (body.Length is { } length)
            {
                long sent = 0;
                while (sent < length)
                {
                    int n = await source.ReadAsync(piece.AsMemory(0, (int)Math.Min(piece.Length, length - sent)), token);
                    if (n == 0)
                    {
                        throw new InvalidOperationException($"The request body stream ended after {sent} of the {length} bytes announced.");
                    }

                    await output.WriteAsync(piece.AsMemory(0, n), token);
                    sent += n;
                }

                return;
            }

            while (true)
            {
                int n = await source.ReadAsync(piece, token);
                scratch.Release();
                if (n == 0)
                {
                    HttpChunkedWriter.WriteLastChunk(scratch);
                    await output.WriteAsync(scratch.WrittenMemory, token);
                    return;
                }

                HttpChunkedWriter.WriteChunk(scratch, piece.AsSpan(0, n));
                await output.WriteAsync(scratch.WrittenMemory, token);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(piece);
        }
    }
}
