
namespace Meanwhile.Http.Tests;

public sealed class ParserLimitsTests
{
    [Fact]
    public void Defaults_are_the_documented_ones()
    {
        HttpParserLimits limits = HttpParserLimits.Requests;
        Assert.Equal(8 * 1024, limits.MaxStartLineBytes);
        Assert.Equal(32 * 1024, limits.MaxHeaderSectionBytes);
        Assert.Equal(100, limits.MaxFieldCount);
        Assert.Equal(16L * 1024 * 1024, limits.MaxBodyBytes);
        Assert.Equal(long.MaxValue, HttpParserLimits.Responses.MaxBodyBytes);
    }

    [Fact]
    public void Nonsense_limits_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpParserLimits { MaxStartLineBytes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpParserLimits { MaxHeaderSectionBytes = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpParserLimits { MaxFieldCount = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpParserLimits { MaxChunkLineBytes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpParserLimits { MaxBodyBytes = -1 });
        Assert.Equal(0, new HttpParserLimits { MaxBodyBytes = 0 }.MaxBodyBytes);
    }
}

/// <summary>A limit and a bad line ending in one line: the answer must not depend on where reads end (found by fuzzing).</summary>
public sealed class LimitBeforeBadLineEndingTests
{
    private static readonly HttpParserLimits Small = new() { MaxStartLineBytes = 16, MaxHeaderSectionBytes = 32 };

    [Theory]
    [InlineData("GET /aaaaaaaaaaaaaaaaaaaa\nHost: x\r\n\r\n", HttpParseErrorKind.StartLineTooLong)] // bare LF past the limit
    [InlineData("GET /aaaaaaaaaaaaaaaaaaaa\rX", HttpParseErrorKind.StartLineTooLong)] // bare CR past the limit
    [InlineData("GET /a HTTP/1.1\nHost: x\r\n\r\n", HttpParseErrorKind.InvalidRequestLine)] // bare LF within it
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nX-Long: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n\r\n", HttpParseErrorKind.HeaderSectionTooLarge)]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nX-Long: bbbbbbbbbbbbbbb\rX\r\n\r\n", HttpParseErrorKind.HeaderSectionTooLarge)] // the CR is the section's 33rd byte
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nX-Long: bbbbbbbbbbbbbb\rX\r\n\r\n", HttpParseErrorKind.InvalidField)] // the CR is its 32nd
    public void SameErrorHoweverTheBytesAreSplit(string request, HttpParseErrorKind expected)
    {
        Transcript transcript = Splits.Requests(request, Small);
        Assert.Equal(Ending.Error, transcript.Ending);
        Assert.Equal(expected, transcript.Error.Kind);
    }
}
