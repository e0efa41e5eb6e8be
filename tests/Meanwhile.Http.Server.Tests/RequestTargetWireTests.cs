using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// The request-target matrix of RFC 9112 3.2 on the wire, against the echo server: each form with an ordinary method,
/// OPTIONS and CONNECT. Accepted forms are echoed as received; forbidden ones get 400 and a close; a well-formed
/// CONNECT gets 501 (this origin server is not a proxy, RFC 9110 9.3.6).
/// </summary>
public sealed class RequestTargetWireTests
{
    [Theory]
    [InlineData("GET", "/a?b=c", 200)]
    [InlineData("OPTIONS", "/a", 200)]
    [InlineData("CONNECT", "/a", 400)]
    [InlineData("GET", "http://example.org/a?b", 200)]
    [InlineData("OPTIONS", "http://example.org", 200)]
    [InlineData("CONNECT", "http://example.org:443/", 400)]
    [InlineData("GET", "ftp://example.org/a", 400)]
    [InlineData("GET", "http://user@example.org/", 400)]
    [InlineData("GET", "example.org:443", 400)]
    [InlineData("OPTIONS", "example.org:443", 400)]
    [InlineData("CONNECT", "example.org:443", 501)]
    [InlineData("GET", "*", 400)]
    [InlineData("OPTIONS", "*", 200)]
    [InlineData("CONNECT", "*", 400)]
    [InlineData("GET", "/a#fragment", 400)]
    [InlineData("GET", "/caf\u00e9", 400)]
    [InlineData("GET", "/caf%C3%A9", 200)]
    [InlineData("GET", "/%zz", 400)]
    public async Task Each_form_with_each_kind_of_method_gets_what_the_rfc_says(string method, string target, int status)
    {
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync);
        using var client = new RawClient(server.Port);
        client.Send($"{method} {target} HTTP/1.1\r\nHost: example.org\r\n\r\nGET /after HTTP/1.1\r\nHost: example.org\r\n\r\n");
        if (status == 200)
        {
            var responses = client.ReadResponses(2);
            Assert.Equal(200, responses[0].Status);
            Assert.Contains($"\"target\":\"{target}\"", responses[0].Body);
            Assert.Contains("\"target\":\"/after\"", responses[1].Body);
            return;
        }

        string all = client.ReadToEnd();
        Assert.StartsWith($"HTTP/1.1 {status} ", all);
        Assert.Contains("Connection: close", all);
        Assert.DoesNotContain("/after", all); // nothing after a refused request line is read as a request
    }
}
