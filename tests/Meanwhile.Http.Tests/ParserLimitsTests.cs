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
