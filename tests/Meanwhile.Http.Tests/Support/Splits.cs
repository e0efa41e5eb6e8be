namespace Meanwhile.Http.Tests;

/// <summary>
/// Parses a message whole, byte by byte, and split in two at every offset, and checks every way gives the
/// same transcript: a push parser must not care where reads happen to end.
/// </summary>
internal static class Splits
{
    internal static IEnumerable<byte[][]> All(byte[] raw)
    {
        yield return [raw];
        yield return raw.Select(b => new[] { b }).ToArray();
        for (int cut = 1; cut < raw.Length; cut++)
        {
            yield return [raw[..cut], raw[cut..]];
        }
    }

    internal static Transcript Requests(string raw, HttpParserLimits? limits = null, HttpRequestPolicy? policy = null) =>
        Requests(Latin1.Bytes(raw), limits, policy);

    internal static Transcript Requests(byte[] raw, HttpParserLimits? limits = null, HttpRequestPolicy? policy = null) =>
        Same(raw, pieces => ConnectionDriver.Requests(pieces, limits, policy));

    internal static Transcript Responses(string raw, string requestMethod = "GET", bool endOfInput = false, HttpParserLimits? limits = null) =>
        Same(Latin1.Bytes(raw), pieces => ConnectionDriver.Responses(pieces, requestMethod, endOfInput, limits));

    internal static Transcript Same(byte[] raw, Func<byte[][], Transcript> parse)
    {
        Transcript whole = parse([raw]);
        string expected = whole.ToString();
        foreach (byte[][] pieces in All(raw).Skip(1))
        {
            string actual = parse(pieces).ToString();
            if (actual != expected)
            {
                Assert.Fail($"split [{string.Join(", ", pieces.Select(p => p.Length))}] differs.\nwhole:\n{expected}\nsplit:\n{actual}");
            }
        }

        return whole;
    }
}
