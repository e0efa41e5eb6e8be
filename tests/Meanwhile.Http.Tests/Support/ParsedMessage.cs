namespace Meanwhile.Http.Tests;

/// <summary>A snapshot of one parsed message, copied out of the parser so it survives the next message.</summary>
/// <param name="StartLine">[method, target, version] for a request; [version, status, reason] for a response.</param>
internal sealed record ParsedMessage(
    IReadOnlyList<string> StartLine,
    IReadOnlyList<(string Name, string Value)> Headers,
    IReadOnlyList<(string Name, string Value)> Trailers,
    byte[] Body,
    HttpBodyFraming Framing,
    bool KeepAlive,
    bool ExpectsContinue)
{
    internal string Method => StartLine[0];

    internal string Target => StartLine[1];

    internal string Version => StartLine[2];

    internal static ParsedMessage From(HttpMessageHead head, byte[] body)
    {
        string[] startLine = head switch
        {
            HttpRequestHead request => [Latin1.Text(request.Method), Latin1.Text(request.Target), Latin1.Text(request.VersionBytes)],
            HttpResponseHead response => [Latin1.Text(response.VersionBytes), response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture), Latin1.Text(response.ReasonPhrase)],
            _ => throw new ArgumentException("unknown head type", nameof(head)),
        };

        return new ParsedMessage(
            startLine,
            Fields(head.Fields),
            Fields(head.Trailers),
            body,
            head.Framing,
            head.KeepAlive,
            head is HttpRequestHead { ExpectsContinue: true });
    }

    /// <summary>A one-line text form, so transcripts compare with a readable diff.</summary>
    public override string ToString()
    {
        string headers = string.Join(", ", Headers.Select(h => $"{h.Name}={h.Value}"));
        string trailers = string.Join(", ", Trailers.Select(h => $"{h.Name}={h.Value}"));
        return $"[{string.Join(" | ", StartLine)}] headers({headers}) trailers({trailers}) body({Convert.ToBase64String(Body)}) {Framing} keepAlive={KeepAlive} continue={ExpectsContinue}";
    }

    private static List<(string, string)> Fields(HttpFieldList list)
    {
        var fields = new List<(string, string)>(list.Count);
        foreach (HttpField field in list)
        {
            fields.Add((Latin1.Text(field.Name), Latin1.Text(field.Value)));
        }

        return fields;
    }
}
