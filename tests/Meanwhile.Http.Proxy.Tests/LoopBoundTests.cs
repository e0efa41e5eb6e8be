using Meanwhile.Http.Client;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Proxy.Tests;

/// <summary>Loop-bound objects used from the wrong loop fail with an error that is logged and says how to fix it.</summary>
public sealed class LoopBoundTests
{
    [Fact]
    public async Task A_client_made_on_another_loop_fails_in_the_handler_with_a_logged_error_that_names_the_fix()
    {
        LoopHttpClient? foreign = null;
        var thread = new Thread(() => EventLoop.Run(() =>
        {
            foreign = new LoopHttpClient();
            return Task.CompletedTask;
        }));
        thread.Start();
        thread.Join();

        var log = new StringWriter();
        await using var server = new HttpServer(async (request, response) =>
        {
            using var answer = await foreign!.GetAsync("http://127.0.0.1:1/");
        }, new HttpServerOptions { Port = 0, Loops = 1, LoggerFactory = new WriterLoggerFactory(log) });
        await server.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{server.Port}/quote"]);
        Assert.True(code == 0, stderr);
        Assert.Equal("500", System.Text.Encoding.ASCII.GetString(body));
        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        string logged = log.ToString();
        Assert.Contains("\"GET /quote\"", logged, StringComparison.Ordinal);
        Assert.Contains("This LoopHttpClient belongs to the loop that created it", logged, StringComparison.Ordinal);
        Assert.Contains("new HttpServer(loop => ..., options)", logged, StringComparison.Ordinal);
    }
}
