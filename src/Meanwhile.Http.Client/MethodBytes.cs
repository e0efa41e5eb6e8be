namespace Meanwhile.Http.Client;

/// <summary>Method names as bytes, without allocating for the common ones.</summary>
internal static class MethodBytes
{
    public static ReadOnlySpan<byte> Of(string method) => method switch
    {
        "GET" => "GET"u8,
        "HEAD" => "HEAD"u8,
        "POST" => "POST"u8,
        "PUT" => "PUT"u8,
        "DELETE" => "DELETE"u8,
        "OPTIONS" => "OPTIONS"u8,
        "PATCH" => "PATCH"u8,
        _ => System.Text.Encoding.ASCII.GetBytes(method),
    };
}
