using System.Net;
using System.Text;

namespace Meanwhile.Http.Client.Tests;

/// <summary>
/// An HTTP/1.1 peer on the client's own loop, for timeout tests on virtual time: it reads each request head and answers
/// by its path, and everything it waits for is loop time, so the test alone decides when time passes.
/// </summary>
/// <remarks>
/// Paths: <c>/hang</c> never answers; <c>/slow-body</c> sends a head announcing ten bytes and two of them; <c>/drip</c>
/// sends its head one byte per 100 ms of loop time; anything else gets <c>200</c> with its own path as the body.
/// </remarks>
internal sealed class LoopPeer : IAsyncDisposable
{
    private readonly EventLoop _loop;
    private readonly StreamListener _listener;
    private readonly List<SocketStream> _connections = [];
    private readonly Dictionary<string, TaskCompletionSource> _seen = [];
    private readonly LoopTask _accepting;

    public LoopPeer(EventLoop loop)
    {
        _loop = loop;
        _listener = StreamListener.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
        _accepting = loop.Spawn(AcceptAsync, "loop peer");
    }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted { get; private set; }

    /// <summary>The request paths read so far, in order.</summary>
    public List<string> Requests { get; } = [];

    public Uri Uri(string path) => new($"http://127.0.0.1:{_listener.Port}{path}");

    /// <summary>Completes once the head of a request for <paramref name="path"/> has been read.</summary>
    public Task Received(string path) => SeenSource(path).Task;

    private TaskCompletionSource SeenSource(string path)
    {
        if (!_seen.TryGetValue(path, out var seen))
        {
            seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _seen.Add(path, seen);
        }

        return seen;
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            SocketStream connection;
            try
            {
                connection = await _listener.AcceptAsync();
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            Accepted++;
            _connections.Add(connection);
            _ = _loop.Spawn(() => ServeAsync(connection), "loop peer connection");
        }
    }

    private async Task ServeAsync(SocketStream connection)
    {
        var input = new List<byte>();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int end;
                while ((end = IndexOfEndOfHead(input)) < 0)
                {
                    int n = await connection.ReadAsync(buffer);
                    if (n == 0)
                    {
                        return;
                    }

                    input.AddRange(buffer.AsSpan(0, n));
                }

                string head = Encoding.ASCII.GetString([.. input.GetRange(0, end)]);
                input.RemoveRange(0, end + 4);
                string path = head.Split(' ')[1];
                Requests.Add(path);
                SeenSource(path).TrySetResult();
                switch (path)
                {
                    case "/hang":
                        await DrainUntilClosedAsync(connection, buffer); // answers nothing, until the client gives up
                        return;
                    case "/slow-body":
                        await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"u8.ToArray());
                        await DrainUntilClosedAsync(connection, buffer);
                        return;
                    case "/drip":
                        foreach (byte b in "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray())
                        {
                            await connection.WriteAsync(new[] { b });
                            await _loop.Delay(TimeSpan.FromMilliseconds(100));
                        }

                        break;
                    default:
                        await connection.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {path.Length}\r\n\r\n{path}"));
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SystemCallException)
        {
            // the client closed the connection: the end of this script
        }
    }

    private static async Task DrainUntilClosedAsync(SocketStream connection, byte[] buffer)
    {
        while (await connection.ReadAsync(buffer) > 0)
        {
        }
    }

    private static int IndexOfEndOfHead(List<byte> input)
    {
        for (int i = 0; i + 3 < input.Count; i++)
        {
            if (input[i] == '\r' && input[i + 1] == '\n' && input[i + 2] == '\r' && input[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        _accepting.Cancel();
    }
}
