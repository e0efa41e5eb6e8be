namespace Meanwhile.Http.Server.Tests;

/// <summary><see cref="ServerResponse.AddHeader(HttpField)"/>: a field of a parsed head goes out as read; the server's own fields stay refused.</summary>
public sealed class ParsedFieldHeaderTests
{
    [ToolFact("curl")]
    public async Task A_request_field_is_copied_into_the_response_and_a_managed_one_is_refused()
    {
        var refused = new List<string>();
        await using var server = await TestServer.StartAsync((request, response) =>
        {
            foreach (var field in request.Head.Fields)
            {
                if (field.NameEquals("X-Echo"u8)) response.AddHeader(field);
                else if (field.NameEquals("Connection"u8) || field.NameEquals("Date"u8))
                {
                    try { response.AddHeader(field); }
                    catch (ArgumentException) { refused.Add(System.Text.Encoding.ASCII.GetString(field.Name)); }
                }
            }
            return ValueTask.CompletedTask;
        });
        var (code, stdout, stderr) = Tool.Run("curl", ["-si", "-H", "X-Echo:   padded  value ", "-H", "Connection: keep-alive", "-H", "Date: today",
            $"http://127.0.0.1:{server.Port}/"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("X-Echo: padded  value\r\n", stdout);
        Assert.DoesNotContain("today", stdout);
        Assert.Equal(["Connection", "Date"], refused);
    }
}
