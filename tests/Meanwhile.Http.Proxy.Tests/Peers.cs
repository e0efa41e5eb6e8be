namespace Meanwhile.Http.Proxy.Tests;

/// <summary>Node's http module as an upstream, with routes for each behaviour the tests need (see node-upstream.js).</summary>
internal sealed class NodeUpstream : IDisposable
{
    private readonly PeerProcess _peer;

    public NodeUpstream()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "peers", "node-upstream.js");
        (_peer, string port) = PeerProcess.Start("node", [script], @"^listening (\d+)$");
        Port = int.Parse(port, System.Globalization.CultureInfo.InvariantCulture);
    }

    public int Port { get; }

    public Uri Uri => new($"http://127.0.0.1:{Port}");

    /// <summary>The node process, whose output has a line "request METHOD URL" per request.</summary>
    public PeerProcess Process => _peer;

    /// <summary>Requests node received for <paramref name="url"/> (any method).</summary>
    public int Requests(string url) => _peer.Count($"request GET {url}") + _peer.Count($"request POST {url}");

    public void Dispose() => _peer.Dispose();

    /// <summary>The bytes of /big: 1 MiB, the same pattern node-upstream.js makes.</summary>
    public static byte[] Big()
    {
        var big = new byte[1 << 20];
        for (int i = 0; i < big.Length; i++) big[i] = (byte)((i * 31) + 7);
        return big;
    }
}
