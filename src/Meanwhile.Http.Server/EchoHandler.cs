using System.Buffers;

namespace Meanwhile.Http.Server;

/// <summary>
/// Echo mode: answers every request with 200 and a JSON description of what arrived (method, target, version,
/// header fields in order, de-chunked body in base64) — the contract of the conformance corpus in
/// <c>tests/conformance/README.md</c>; the JSON itself is <see cref="EchoJsonWriter"/>'s.
/// </summary>
public static class EchoHandler
{
    /// <summary>The echo handler.</summary>
    /// <param name="request">The request to describe.</param>
    /// <param name="response">Gets 200, <c>Content-Type: application/json</c> and the JSON.</param>
    public static async ValueTask HandleAsync(ServerRequest request, ServerResponse response)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        // The body is kept in pooled pieces whose length is a multiple of 3, so each encodes to base64 on its own, and
        // the JSON goes out piece by piece: an upload costs its own size, never a doubled copy nor all its JSON at once.
        var pieces = new List<byte[]>();
        int last = PieceBytes;
        try
        {
            while (request.HasBody)
            {
                if (last == PieceBytes)
                {
                    pieces.Add(ArrayPool<byte>.Shared.Rent(PieceBytes));
                    last = 0;
                }
                int n = await request.ReadAsync(pieces[^1].AsMemory(last, PieceBytes - last));
                if (n == 0) break;
                last += n;
            }
            response.AddHeader("Content-Type"u8, "application/json"u8);
            EchoJsonWriter.WriteStart(request.Head, response);
            for (int i = 0; i < pieces.Count; i++)
            {
                EchoJsonWriter.WriteBodyPart(pieces[i].AsSpan(0, i == pieces.Count - 1 ? last : PieceBytes), response);
                await response.WriteAsync(ReadOnlyMemory<byte>.Empty); // sends (chunked) once a response buffer's worth waits
            }
            EchoJsonWriter.WriteEnd(response);
        }
        finally
        {
            foreach (byte[] piece in pieces) ArrayPool<byte>.Shared.Return(piece);
        }
    }

    private const int PieceBytes = 3 * 21_845; // 65,535: a multiple of 3 that fits a pooled 64 KiB array
}
