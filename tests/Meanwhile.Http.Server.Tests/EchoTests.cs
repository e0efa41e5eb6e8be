using System.Net.Http.Headers;
using System.Text.Json;

namespace Meanwhile.Http.Server.Tests;

/// <summary>Echo mode with bodies larger than a response buffer: the JSON streams out piece by piece and decodes to the same bytes.</summary>
public sealed class EchoTests
{
    [Theory]
    [InlineData(0, false)]
    [InlineData(65_535, false)] // exactly one piece
    [InlineData(65_536, true)] // one byte into a second piece
    [InlineData(3 * 1024 * 1024 + 2, false)]
    [InlineData(3 * 1024 * 1024 + 1, true)]
    public async Task LargeBodiesComeBackWhole(int length, bool chunked)
    {
        await using var server = await TestServer.StartAsync(EchoHandler.HandleAsync);
        var body = new byte[length];
        new Random(length).NextBytes(body);
        using var client = new HttpClient();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (chunked)
        {
            content.Headers.ContentLength = null;
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{server.Port}/echo") { Content = content };
            request.Headers.TransferEncodingChunked = true;
            using var response = await client.SendAsync(request);
            await AssertEchoes(response, body);
        }
        else
        {
            using var response = await client.PostAsync($"http://127.0.0.1:{server.Port}/echo", content);
            await AssertEchoes(response, body);
        }
    }

    private static async Task AssertEchoes(HttpResponseMessage response, byte[] body)
    {
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        using JsonDocument echo = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("POST", echo.RootElement.GetProperty("method").GetString());
        Assert.True(body.AsSpan().SequenceEqual(echo.RootElement.GetProperty("body_base64").GetBytesFromBase64()), "the body comes back whole");
    }
}
