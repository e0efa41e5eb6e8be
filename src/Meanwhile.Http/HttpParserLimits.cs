namespace Meanwhile.Http;

/// <summary>Bounds on what a parser accepts, so a peer cannot make it buffer without end.</summary>
/// <remarks>Immutable (init-only) so one instance can be shared by every connection of a server.</remarks>
public sealed record HttpParserLimits
{
    /// <summary>Defaults for a server parsing requests: 8 KiB start line, 32 KiB header section, 100 fields, 16 MiB body.</summary>
    public static HttpParserLimits Requests { get; } = new();

    /// <summary>Defaults for a client parsing responses: as for requests, but no body limit (downloads can be large).</summary>
    public static HttpParserLimits Responses { get; } = new() { MaxBodyBytes = long.MaxValue };

    /// <summary>Longest start line (request line or status line), without its CRLF; beyond it: 414.</summary>
    public int MaxStartLineBytes { get; init => field = Positive(value); } = 8 * 1024;

    /// <summary>Largest header section (all field lines with their CRLFs and the final empty line); the same bound applies to trailers; beyond it: 431.</summary>
    public int MaxHeaderSectionBytes { get; init => field = Positive(value); } = 32 * 1024;

    /// <summary>Most field lines in the header section (and, separately, in the trailer section); beyond it: 431.</summary>
    public int MaxFieldCount { get; init => field = Positive(value); } = 100;

    /// <summary>Largest body content after de-chunking; beyond it: 413.</summary>
    public long MaxBodyBytes { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The body limit cannot be negative."); } = 16L * 1024 * 1024;

    /// <summary>Longest chunk-size line (size and extensions, without CRLF); beyond it the chunked body is invalid (400).</summary>
    public int MaxChunkLineBytes { get; init => field = Positive(value); } = 4 * 1024;

    private static int Positive(int value) => value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A limit must be positive.");
}
