using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Meanwhile.Http.Proxy.Tests;

/// <summary>Upstreams that die, hang, refuse or reset: the client gets 502 or 504 saying which, a retry where it is safe, and never a wrong body.</summary>
public sealed class FaultTests
{
    [ToolFact("node", "curl")]
    public async Task An_upstream_killed_mid_response_gives_the_client_a_cut_body_never_a_wrong_one()
    {
        using var node = new NodeUpstream();
        var log = new StringWriter();
        await using var proxy = await RunningProxy.StartAsync(new ProxyOptions { Upstreams = [node.Uri] }, log: TextWriter.Synchronized(log));
        var (code, body, _) = Tool.RunBytes("curl", ["-sS", proxy.Url + "/cut"]);
        Assert.Equal(18, code); // CURLE_PARTIAL_FILE: fewer bytes than the Content-Length
        Assert.InRange(body.Length, 1, (1 << 20) - 1);
        Assert.True(NodeUpstream.Big().AsSpan(0, body.Length).SequenceEqual(body), "the bytes received are not the start of the upstream's body");

        (code, body, _) = Tool.RunBytes("curl", ["-sS", proxy.Url + "/cut-chunked"]);
        Assert.Equal(18, code); // a chunked body without its last chunk
        Assert.True(NodeUpstream.Big().AsSpan(0, body.Length).SequenceEqual(body));
        Assert.Contains("upstream", log.ToString(), StringComparison.Ordinal);
    }

    [ToolFact("node", "curl")]
    public async Task An_upstream_that_never_answers_gets_504_at_the_response_head_timeout()
    {
        using var node = new NodeUpstream();
        await using var proxy = await RunningProxy.StartAsync(new ProxyOptions { Upstreams = [node.Uri], ResponseHeadTimeout = TimeSpan.FromMilliseconds(300) });
        var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "-w", " %{http_code}", proxy.Url + "/hang"]);
        Assert.True(code == 0, stderr);
        Assert.Equal("meanwhile proxy: upstream response header timeout\n 504", Encoding.ASCII.GetString(body));
        // The timed-out connection was closed, not pooled: the next request is answered on a new one.
        (code, body, stderr) = Tool.RunBytes("curl", ["-sS", proxy.Url + "/hello"]);
        Assert.True(code == 0, stderr);
        Assert.Equal("Hello, World!", Encoding.ASCII.GetString(body));
    }

    [ToolFact("node", "curl")]
    public async Task A_refused_upstream_gives_502_alone_and_the_next_upstream_answers_when_there_is_one()
    {
        var refused = new Uri($"http://127.0.0.1:{FreePort.Get()}");
        await using (var alone = await RunningProxy.StartAsync(refused))
        {
            var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "-w", " %{http_code}", alone.Url + "/hello"]);
            Assert.True(code == 0, stderr);
            Assert.Equal("meanwhile proxy: upstream connect failed\n 502", Encoding.ASCII.GetString(body));
        }

        using var node = new NodeUpstream();
        await using var proxy = await RunningProxy.StartAsync(refused, node.Uri);
        var urls = Enumerable.Repeat(proxy.Url + "/hello", 6).ToList();
        var (allCode, all, allErrors) = Tool.RunBytes("curl", ["-sS", "--fail", .. urls]);
        Assert.True(allCode == 0, allErrors);
        Assert.Equal(string.Concat(Enumerable.Repeat("Hello, World!", 6)), Encoding.ASCII.GetString(all));
    }

    [ToolFact("node", "curl")]
    public async Task An_upstream_that_resets_every_connection_is_skipped_after_three_failures_and_a_post_is_never_resent()
    {
        using var node = new NodeUpstream();
        using var resetter = new ResettingListener();
        await using var proxy = await RunningProxy.StartAsync(new ProxyOptions { Upstreams = [resetter.Uri, node.Uri], FailureQuarantine = TimeSpan.FromMinutes(5) });

        // A POST that lands on the resetter is answered 502, not sent to node: it may have been acted upon.
        var (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "-w", " %{http_code}", "--data", "x=1", proxy.Url + "/hello"]);
        Assert.True(code == 0, stderr);
        Assert.Equal("meanwhile proxy: upstream closed the connection before responding\n 502", Encoding.ASCII.GetString(body));

        var urls = Enumerable.Repeat(proxy.Url + "/hello", 12).ToList();
        (code, body, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", .. urls]);
        Assert.True(code == 0, stderr);
        Assert.Equal(string.Concat(Enumerable.Repeat("Hello, World!", 12)), Encoding.ASCII.GetString(body));
        Assert.Equal(3, resetter.Accepted); // the POST and two GETs; then it is skipped
    }

    [ToolFact("node", "curl")]
    public async Task The_active_probe_skips_an_upstream_whose_health_check_fails()
    {
        using var sick = new NodeUpstream();
        using var well = new NodeUpstream();
        var (code, _, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", sick.Uri + "sick"]);
        Assert.True(code == 0, stderr);
        await using var proxy = await RunningProxy.StartAsync(new ProxyOptions
        {
            Upstreams = [sick.Uri, well.Uri],
            HealthProbePath = "/healthz",
            HealthProbeInterval = TimeSpan.FromMilliseconds(50),
            FailureQuarantine = TimeSpan.FromMinutes(5),
        });
        // The second probe of the sick upstream starts only once the first one's verdict is in.
        await sick.Process.WaitForAsync("request GET /healthz", 2, TimeSpan.FromSeconds(10));
        var urls = Enumerable.Repeat(proxy.Url + "/hello", 8).ToList();
        (code, _, stderr) = Tool.RunBytes("curl", ["-sS", "--fail", .. urls]);
        Assert.True(code == 0, stderr);
        await well.Process.WaitForAsync("request GET /hello", 8, TimeSpan.FromSeconds(10));
        Assert.Equal(0, sick.Requests("/hello"));
    }

    /// <summary>Accepts connections and resets each at once (SO_LINGER 0), counting them.</summary>
    private sealed class ResettingListener : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private int _accepted;

        public ResettingListener()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(64);
            _ = AcceptLoopAsync();
        }

        public Uri Uri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}");

        public int Accepted => Volatile.Read(ref _accepted);

        private async Task AcceptLoopAsync()
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptAsync();
                    Interlocked.Increment(ref _accepted);
                    // Read the request first, so the reset answers it (rather than racing the proxy's write).
                    await socket.ReceiveAsync(new byte[4096]);
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Dispose();
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // disposed
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
