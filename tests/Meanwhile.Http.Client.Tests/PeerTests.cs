using System.Text.RegularExpressions;
using Meanwhile.Http.Client.KestrelPeer;

namespace Meanwhile.Http.Client.Tests;

/// <summary>Node's http module: chunked responses and close-delimited bodies.</summary>
public sealed class NodeFixture : IDisposable
{
    private readonly PeerProcess _process;

    public NodeFixture()
    {
        (_process, string line) = PeerProcess.Start("node", [Path.Combine(AppContext.BaseDirectory, "peers", "node-peer.js")], l => l.StartsWith("listening ", StringComparison.Ordinal));
        Port = int.Parse(line["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    public int Port { get; }

    public Uri Uri(string path) => new($"http://127.0.0.1:{Port}{path}");

    public void Dispose() => _process.Dispose();
}

public sealed class NodeTests(NodeFixture node) : IClassFixture<NodeFixture>
{
    [Fact]
    public void Reads_a_chunked_response() => Loops.WithClient(async client =>
    {
        using var response = await client.GetAsync(node.Uri("/chunked?n=200"));
        Assert.Equal("chunked", response.GetHeader("Transfer-Encoding"));
        Assert.Equal(string.Concat(Enumerable.Range(0, 200).Select(i => $"chunk {i}\n")), await response.ReadAsStringAsync());
    });

    [Fact]
    public void Reads_a_close_delimited_body_and_does_not_reuse_the_connection() => Loops.WithClient(async client =>
    {
        var uri = node.Uri("/close-delimited");
        using (var response = await client.GetAsync(uri))
        {
            Assert.Equal(-1, response.ContentLength);
            Assert.Equal("first part, second part", await response.ReadAsStringAsync());
        }

        Assert.Equal(0, client.OpenConnections(uri));
        using var again = await client.GetAsync(uri);
        Assert.Equal("first part, second part", await again.ReadAsStringAsync());
    });

    [Fact]
    public void Keeps_the_connection_alive_between_requests() => Loops.WithClient(async client =>
    {
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("node GET /x", await client.GetStringAsync(node.Uri("/x")));
        }

        Assert.Equal(1, client.OpenConnections(node.Uri("/")));
    });

    [Fact]
    public void Cancellation_ends_a_waiting_request() => Loops.WithClient(async client =>
    {
        using var cancel = new CancellationTokenSource();
        var request = client.GetAsync(node.Uri("/delay?ms=20000"), cancel.Token).AsTask();
        cancel.CancelAfter(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
    });

    [Fact]
    public void Gets_files_from_python_http_server()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["page.txt"], "from python");
        var (python, line) = PeerProcess.Start("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir.Path], l => l.Contains("port ", StringComparison.Ordinal));
        using var _ = python;
        int port = int.Parse(Regex.Match(line, @"port (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Loops.WithClient(async client =>
        {
            for (int i = 0; i < 3; i++)
            {
                using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/page.txt"));
                Assert.Equal(200, response.StatusCode);
                Assert.Equal("from python", await response.ReadAsStringAsync());
            }

            using var missing = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/missing"));
            Assert.Equal(404, missing.StatusCode);
            await missing.ReadAsBytesAsync();
            using var head = await client.SendAsync(new LoopHttpRequest("HEAD", new Uri($"http://127.0.0.1:{port}/page.txt")));
            Assert.Equal(11, head.ContentLength);
            Assert.Empty(await head.ReadAsBytesAsync());
        });
    }
}

/// <summary>Kestrel, in-process on the thread pool.</summary>
public sealed class KestrelTests : IAsyncLifetime
{
    private KestrelPeer.KestrelPeer _kestrel = null!;

    public async Task InitializeAsync() => _kestrel = await KestrelPeer.KestrelPeer.StartAsync();

    public async Task DisposeAsync() => await _kestrel.DisposeAsync();

    private Uri Uri(string path) => new($"http://127.0.0.1:{_kestrel.Port}{path}");

    [Fact]
    public void Gets_and_follows_a_redirect() => Loops.WithClient(async client =>
    {
        Assert.Equal("Hello from Kestrel", await client.GetStringAsync(Uri("/redirect")));
        Assert.Equal(1, client.OpenConnections(Uri("/")));
    });

    [Fact]
    public void Posts_bytes_with_content_length() => Loops.WithClient(async client =>
    {
        var data = new byte[200_000];
        new Random(1).NextBytes(data);
        using var response = await client.SendAsync(new LoopHttpRequest("POST", Uri("/echo")) { Body = RequestBody.FromBytes(data) });
        Assert.Equal("200000", response.GetHeader("X-Received-Length"));
        Assert.Equal("", response.GetHeader("X-Request-Chunked"));
        Assert.Equal(data, await response.ReadAsBytesAsync());
    });

    [Fact]
    public void Posts_a_stream_of_unknown_length_chunked() => Loops.WithClient(async client =>
    {
        var data = new byte[1_000_000];
        new Random(2).NextBytes(data);
        var request = new LoopHttpRequest("POST", Uri("/echo")) { Body = RequestBody.FromStream(new NonSeekable(data)) };
        using var response = await client.SendAsync(request);
        Assert.Equal("chunked", response.GetHeader("X-Request-Chunked"));
        Assert.Equal(data, await response.ReadAsBytesAsync());
    });

    [Fact]
    public void Posts_with_expect_100_continue() => Loops.WithClient(async client =>
    {
        var data = System.Text.Encoding.ASCII.GetBytes("continued body");
        var request = new LoopHttpRequest("POST", Uri("/echo")) { Body = RequestBody.FromBytes(data), ExpectContinue = true };
        using var response = await client.SendAsync(request);
        Assert.Equal("continued body", await response.ReadAsStringAsync());
    });

    [Fact]
    public void Streams_a_chunked_response() => Loops.WithClient(async client =>
    {
        var body = await client.GetBytesAsync(Uri("/stream?n=123456"));
        Assert.Equal(123456, body.Length);
        Assert.Equal((byte)'a', body[0]);
        Assert.Equal((byte)('a' + (123 % 26)), body[123_000]);
    });

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
