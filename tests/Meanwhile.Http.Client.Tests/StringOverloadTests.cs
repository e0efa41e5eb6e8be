namespace Meanwhile.Http.Client.Tests;

/// <summary>Every GET helper takes the URI as a string too, as <see cref="LoopHttpClient.GetAsync(string, CancellationToken)"/> does.</summary>
public sealed class StringOverloadTests(NginxFixture nginx) : IClassFixture<NginxFixture>
{
    [Fact]
    public void Get_string_and_get_bytes_take_a_string_uri() => ClientLoops.WithClient(async client =>
    {
        Assert.Equal("Hello, World!", await client.GetStringAsync(nginx.Http("/hello.txt").ToString()));
        Assert.Equal(nginx.BigBinary, await client.GetBytesAsync(nginx.Http("/big.bin").ToString()));
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetStringAsync("ftp://127.0.0.1/hello.txt")); // refused before anything is sent
    });
}
