using Meanwhile.Http.Server;

namespace Meanwhile.Http.Proxy.Tests;

/// <summary>A proxy server on port 0 for one test; disposing it stops it gracefully and waits.</summary>
internal sealed class RunningProxy : IAsyncDisposable
{
    private readonly HttpServer _server;

    private RunningProxy(HttpServer server) => _server = server;

    public int Port => _server.Port;

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Connections still open at the shutdown deadline, which the server cut (after <see cref="DisposeAsync"/>).</summary>
    public int ConnectionsCutAtShutdown => _server.ConnectionsCutAtShutdown;

    public static async Task<RunningProxy> StartAsync(ProxyOptions options, int loops = 1, TextWriter? log = null)
    {
        var server = new HttpServer(ProxyHandler.PerLoop(options), new HttpServerOptions { Port = 0, Loops = loops, LoggerFactory = log is null ? null : new WriterLoggerFactory(log) });
        await server.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return new RunningProxy(server);
    }

    public static Task<RunningProxy> StartAsync(params Uri[] upstreams) => StartAsync(new ProxyOptions { Upstreams = upstreams });

    public async ValueTask DisposeAsync() => await _server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
}
