namespace Meanwhile.Http.Tests;

/// <summary>Assertions shared by the rule tests.</summary>
internal static class Expect
{
    /// <summary>Parses <paramref name="raw"/> (at every split) and checks it is refused with <paramref name="status"/> and <paramref name="kind"/>.</summary>
    internal static HttpParseError Rejected(string raw, int status, HttpParseErrorKind kind, HttpParserLimits? limits = null)
    {
        Transcript transcript = Splits.Requests(raw, limits);
        Assert.Equal(Ending.Error, transcript.Ending);
        Assert.Equal(kind, transcript.Error.Kind);
        Assert.Equal(status, transcript.Error.StatusCode);
        Assert.False(string.IsNullOrEmpty(transcript.Error.Reason));
        return transcript.Error;
    }

    /// <summary>Parses <paramref name="raw"/> (at every split) and returns its one request, checking nothing else happened.</summary>
    internal static ParsedMessage Accepted(string raw, HttpParserLimits? limits = null)
    {
        Transcript transcript = Splits.Requests(raw, limits);
        Assert.True(transcript.Ending != Ending.Error, transcript.ToString());
        Assert.False(transcript.MidMessage, transcript.ToString());
        return transcript.Single;
    }
}
