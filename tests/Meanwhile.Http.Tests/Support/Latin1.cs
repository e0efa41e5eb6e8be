using System.Text;

namespace Meanwhile.Http.Tests;

/// <summary>One character per byte, as HTTP heads (and the echo contract) treat text.</summary>
internal static class Latin1
{
    internal static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    internal static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}
