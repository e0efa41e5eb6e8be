
namespace Meanwhile.Http.Tests;

public sealed class RequestPolicyTests
{
    [Fact]
    public void Connect_is_refused_by_an_origin_server_with_501()
    {
        Transcript transcript = Splits.Requests("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", policy: HttpRequestPolicy.OriginServer);
        Assert.Equal(Ending.Error, transcript.Ending);
        Assert.Equal(HttpParseErrorKind.MethodNotSupported, transcript.Error.Kind);
        Assert.Equal(501, transcript.Error.StatusCode);
        Assert.Empty(transcript.Messages);
    }

    [Fact]
    public void Connect_parses_as_syntax_and_can_be_allowed()
    {
        var proxy = new HttpRequestPolicy { AllowConnect = true };
        ParsedMessage request = Splits.Requests("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", policy: proxy).Single;
        Assert.Equal("example.com:443", request.Target);
    }

    [Fact]
    public void Other_methods_pass()
    {
        Transcript transcript = Splits.Requests("QUERY /x HTTP/1.1\r\nHost: x\r\n\r\n", policy: HttpRequestPolicy.OriginServer);
        Assert.Equal("QUERY", transcript.Single.Method);
    }
}
