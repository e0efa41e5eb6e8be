namespace Meanwhile.Http.Tests;

public sealed class ParseErrorTests
{
    [Theory]
    [InlineData(HttpParseErrorKind.None, 0)]
    [InlineData(HttpParseErrorKind.InvalidRequestLine, 400)]
    [InlineData(HttpParseErrorKind.InvalidRequestTarget, 400)]
    [InlineData(HttpParseErrorKind.InvalidStatusLine, 400)]
    [InlineData(HttpParseErrorKind.UnsupportedVersion, 505)]
    [InlineData(HttpParseErrorKind.StartLineTooLong, 414)]
    [InlineData(HttpParseErrorKind.InvalidField, 400)]
    [InlineData(HttpParseErrorKind.HeaderSectionTooLarge, 431)]
    [InlineData(HttpParseErrorKind.TooManyFields, 431)]
    [InlineData(HttpParseErrorKind.InvalidHost, 400)]
    [InlineData(HttpParseErrorKind.InvalidContentLength, 400)]
    [InlineData(HttpParseErrorKind.InvalidTransferEncoding, 400)]
    [InlineData(HttpParseErrorKind.ConflictingFraming, 400)]
    [InlineData(HttpParseErrorKind.UnsupportedTransferCoding, 501)]
    [InlineData(HttpParseErrorKind.InvalidChunkedBody, 400)]
    [InlineData(HttpParseErrorKind.BodyTooLarge, 413)]
    [InlineData(HttpParseErrorKind.IncompleteMessage, 400)]
    [InlineData(HttpParseErrorKind.MethodNotSupported, 501)]
    public void Each_kind_maps_to_the_status_a_server_answers(HttpParseErrorKind kind, int status)
    {
        Assert.Equal(status, HttpParseError.StatusCodeOf(kind));
        Assert.Equal(status, new HttpParseError(kind, "x").StatusCode);
    }

    [Fact]
    public void Every_kind_is_mapped()
    {
        foreach (HttpParseErrorKind kind in Enum.GetValues<HttpParseErrorKind>().Where(k => k != HttpParseErrorKind.None))
        {
            Assert.Contains(HttpParseError.StatusCodeOf(kind), new[] { 400, 413, 414, 431, 501, 505 });
        }
    }

    [Fact]
    public void Default_is_no_error_and_does_not_throw()
    {
        HttpParseError none = default;
        Assert.False(none.IsError);
        Assert.Equal(string.Empty, none.Reason);
        Assert.Equal("no error", none.ToString());
        none.ThrowIfError();
    }

    [Fact]
    public void Errors_become_typed_exceptions_at_the_api_edge()
    {
        var error = new HttpParseError(HttpParseErrorKind.InvalidField, "whitespace before colon in header field");
        HttpParseException exception = Assert.Throws<HttpParseException>(error.ThrowIfError);
        Assert.Equal(400, exception.StatusCode);
        Assert.Equal(HttpParseErrorKind.InvalidField, exception.Kind);
        Assert.Equal(error, exception.Error);
        Assert.Equal("400 InvalidField: whitespace before colon in header field", exception.Message);
    }

    [Fact]
    public void Errors_compare_by_kind_and_reason()
    {
        var a = new HttpParseError(HttpParseErrorKind.InvalidField, "r");
        Assert.True(a == new HttpParseError(HttpParseErrorKind.InvalidField, "r"));
        Assert.True(a != new HttpParseError(HttpParseErrorKind.InvalidHost, "r"));
        Assert.Equal(a.GetHashCode(), new HttpParseError(HttpParseErrorKind.InvalidField, "r").GetHashCode());
    }
}
