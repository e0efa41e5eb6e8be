using System.Text;

namespace Meanwhile.Http.Proxy;

/// <summary>
/// The optional active health check: every <see cref="ProxyOptions.HealthProbeInterval"/>, a GET of
/// <see cref="ProxyOptions.HealthProbePath"/> on each upstream, on a connection of its own that it closes, within
/// <see cref="ProxyOptions.ConnectTimeout"/> for the whole exchange. A 2xx or 3xx
/// puts a skipped upstream back at once; a failure or another status skips it for <see cref="ProxyOptions.FailureQuarantine"/>.
/// </summary>
public sealed partial class ProxyHandler
{
    private async Task ProbeLoopAsync(string path, CancellationToken token)
    {
        while (true)
        {
            await _loop.Delay(_options.HealthProbeInterval, token);
            foreach (var upstream in _upstreams.All.ToArray())
            {
                bool healthy;
                try
                {
                    // Not the interval: a short interval on a busy machine would skip healthy upstreams.
                    healthy = await _loop.WithTimeout(_options.ConnectTimeout, probeToken => ProbeAsync(upstream, path, probeToken));
                }
                catch (Exception e) when (e is IOException or TimeoutException or HttpParseException)
                {
                    healthy = false;
                }
                token.ThrowIfCancellationRequested();
                if (healthy) upstream.Succeeded();
                else upstream.Failed(maxFailures: 1, Now + _quarantineTicks);
            }
        }
    }

    private async Task<bool> ProbeAsync(Upstream upstream, string path, CancellationToken token)
    {
        await using var stream = await SocketStream.ConnectAsync(upstream.Host, upstream.Port, _socketOptions, token);
        var request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {Encoding.ASCII.GetString(upstream.Authority)}\r\nConnection: close\r\nUser-Agent: meanwhile-proxy-probe\r\n\r\n");
        await stream.WriteAsync(request, token);
        using var parser = new HttpResponseParser();
        var input = new HttpInputReader(parser, 4096);
        try
        {
            while (true)
            {
                if (input.Buffered == 0) input.Advance(await stream.ReadAsync(input.GetReadMemory(), token));
                switch (input.Parse())
                {
                    case HttpParseStatus.NeedMoreData:
                    case HttpParseStatus.MessageComplete:
                        continue;
                    case HttpParseStatus.HeadComplete when parser.Head.IsInterim:
                        continue;
                    case HttpParseStatus.HeadComplete:
                        return parser.Head.StatusCode is >= 200 and < 400;
                    default:
                        return false;
                }
            }
        }
        finally
        {
            input.Release();
        }
    }
}
