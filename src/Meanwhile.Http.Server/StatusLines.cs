using System.Buffers;

namespace Meanwhile.Http.Server;

/// <summary>
/// The status lines the server writes (<c>HTTP/1.1 200 OK CRLF</c>), each made and checked once, at its code's first
/// use: a response then copies its line instead of writing and checking it again. Shared by every loop; a race makes
/// the same bytes twice, harmlessly.
/// </summary>
internal static class StatusLines
{
    private static readonly byte[]?[] Lines = new byte[]?[900];

    /// <summary>The line for <paramref name="status"/> (100 to 999).</summary>
    public static ReadOnlySpan<byte> For(int status) => Lines[status - 100] ?? Make(status);

    private static byte[] Make(int status)
    {
        var line = new ArrayBufferWriter<byte>(64);
        HttpHeadWriter.WriteStatusLine(line, HttpProtocolVersion.Http11, status, HttpReasonPhrases.Get(status));
        return Lines[status - 100] = line.WrittenSpan.ToArray();
    }
}
