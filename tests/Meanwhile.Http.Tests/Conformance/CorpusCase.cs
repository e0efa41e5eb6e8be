using System.Text.Json;

namespace Meanwhile.Http.Tests;

/// <summary>A request the corpus expects the server to echo.</summary>
internal sealed record ExpectedRequest(string Method, string Target, string Version, IReadOnlyList<(string Name, string Value)> Headers, byte[] Body);

/// <summary>One line of http1-llhttp.jsonl (see tests/conformance/README.md for the format).</summary>
internal sealed record CorpusCase(
    string Id,
    string Expect,
    byte[] Raw,
    IReadOnlyList<ExpectedRequest> Requests,
    IReadOnlyList<int>? Status,
    bool Close,
    bool SilentCloseOk,
    int? RejectAfter,
    int? Await100At,
    bool Skip)
{
    internal static CorpusCase Parse(string line)
    {
        using JsonDocument document = JsonDocument.Parse(line);
        JsonElement root = document.RootElement;
        var requests = new List<ExpectedRequest>();
        if (root.TryGetProperty("requests", out JsonElement list))
        {
            requests.AddRange(list.EnumerateArray().Select(Request));
        }
        else if (root.TryGetProperty("method", out _))
        {
            requests.Add(Request(root));
        }

        return new CorpusCase(
            root.GetProperty("id").GetString()!,
            root.GetProperty("expect").GetString()!,
            root.GetProperty("raw_base64").GetBytesFromBase64(),
            requests,
            root.TryGetProperty("status", out JsonElement status) ? [.. status.EnumerateArray().Select(s => s.GetInt32())] : null,
            Flag(root, "close"),
            Flag(root, "silent_close_ok"),
            root.TryGetProperty("reject_after", out JsonElement after) ? after.GetInt32() : null,
            root.TryGetProperty("await_100_at", out JsonElement at) ? at.GetInt32() : null,
            Flag(root, "skip"));
    }

    private static bool Flag(JsonElement root, string name) => root.TryGetProperty(name, out JsonElement value) && value.GetBoolean();

    private static ExpectedRequest Request(JsonElement element) => new(
        element.GetProperty("method").GetString()!,
        element.GetProperty("target").GetString()!,
        element.GetProperty("version").GetString()!,
        [.. element.GetProperty("headers").EnumerateArray().Select(h => (h[0].GetString()!, h[1].GetString()!))],
        element.TryGetProperty("body_base64", out JsonElement body) ? body.GetBytesFromBase64() : []);
}
