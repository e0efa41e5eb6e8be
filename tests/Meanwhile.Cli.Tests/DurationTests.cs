namespace Meanwhile.Cli.Tests;

public sealed class DurationTests
{
    [Theory]
    [InlineData("200ms", 200)]
    [InlineData("5s", 5000)]
    [InlineData("1.5s", 1500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("3", 3000)]
    [InlineData("0", 0)]
    [InlineData("0.25ms", 0.25)]
    public void Durations_read_as_users_type_them(string text, double milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var duration));
        Assert.Equal(milliseconds, duration.Value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-1s")]
    [InlineData("5 s")]
    [InlineData("1e999s")]
    [InlineData("NaNs")]
    public void Other_text_is_not_a_duration(string text) => Assert.False(Duration.TryParse(text, out _));

    [Theory]
    [InlineData(200, "200ms")]
    [InlineData(5000, "5s")]
    [InlineData(1500, "1.5s")]
    [InlineData(1250, "1250ms")]
    [InlineData(120_000, "2m")]
    [InlineData(90_000, "90s")]
    [InlineData(7_200_000, "2h")]
    [InlineData(0.5, "0.5ms")]
    public void Durations_are_written_back_the_way_users_type_them(double milliseconds, string text)
    {
        var duration = new Duration(TimeSpan.FromMilliseconds(milliseconds));
        Assert.Equal(text, duration.ToString());
        Assert.True(Duration.TryParse(text, out var back));
        Assert.Equal(duration, back);
    }
}
