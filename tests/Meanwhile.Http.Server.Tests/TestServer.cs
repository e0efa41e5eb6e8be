using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Meanwhile.Http.Server;

namespace Meanwhile.Http.Server.Tests;

/// <summary>An in-process server on port 0 for one test; disposing it stops it gracefully and waits.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly HttpServer _server;

    private TestServer(HttpServer server, ConnectionCounter connections)
    {
        _server = server;
        Connections = connections;
    }

    public int Port => _server.Port;

    public HttpServer Server => _server;

    /// <summary>The server's open connections, as it counts them (accepted and not yet released).</summary>
    public ConnectionCounter Connections { get; }

    public static async Task<TestServer> StartAsync(RequestHandler handler, HttpServerOptions? options = null, int loops = 1)
    {
        options ??= new HttpServerOptions();
        var connections = new ConnectionCounter();
        var observer = options.ConnectionObserver;
        var server = new HttpServer(handler, options with
        {
            Port = 0,
            Loops = loops,
            ConnectionObserver = delta =>
            {
                observer?.Invoke(delta);
                connections.Add(delta);
            },
        });
        await server.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return new TestServer(server, connections);
    }

    public async ValueTask DisposeAsync() => await _server.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
}

/// <summary>Counts a server's connections from its hook, and lets a test await a count (an event, not a poll).</summary>
internal sealed class ConnectionCounter
{
    private readonly object _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _open;
    private int _accepted;

    /// <summary>Connections accepted and not yet released.</summary>
    public int Open { get { lock (_gate) return _open; } }

    /// <summary>Connections accepted since the start.</summary>
    public int Accepted { get { lock (_gate) return _accepted; } }

    public void Add(int delta)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _open += delta;
            if (delta > 0) _accepted += delta;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    /// <summary>Waits until <paramref name="condition"/>(open, accepted) holds; a <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(Func<int, int, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((timeout ?? TimeSpan.FromSeconds(10)).TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (condition(_open, _accepted)) return;
                changed = _changed.Task;
            }
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero || await Task.WhenAny(changed, Task.Delay(left)) != changed)
                throw new TimeoutException($"the server never reached '{what}': {Open} open, {Accepted} accepted");
        }
    }

    /// <summary>Waits until every connection the server accepted has been released.</summary>
    public Task WaitForNoneOpenAsync(TimeSpan? timeout = null) => WaitAsync((open, _) => open == 0, "no connection open", timeout);
}

/// <summary>A blocking raw TCP client with receive deadlines, for byte-exact exchanges.</summary>
internal sealed class RawClient : IDisposable
{
    private readonly Socket _socket;
    private readonly StringBuilder _pending = new(); // bytes received past the last whole response

    public RawClient(int port)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000 };
        _socket.Connect(IPAddress.Loopback, port);
    }

    public Socket Socket => _socket;

    public void Send(string latin1) => Send(Encoding.Latin1.GetBytes(latin1));

    public void Send(byte[] bytes) => _socket.Send(bytes);

    /// <summary>Reads until the server closes (or the deadline passes: a failure).</summary>
    public string ReadToEnd()
    {
        var all = new MemoryStream();
        all.Write(Encoding.Latin1.GetBytes(_pending.ToString()));
        _pending.Clear();
        var buffer = new byte[65536];
        while (true)
        {
            int n = _socket.Receive(buffer);
            if (n == 0) return Encoding.Latin1.GetString(all.ToArray());
            all.Write(buffer, 0, n);
        }
    }

    /// <summary>Reads until <paramref name="responses"/> complete responses (Content-Length framed) have arrived.</summary>
    public List<(int Status, string Head, string Body)> ReadResponses(int responses)
    {
        var result = new List<(int, string, string)>();
        var pending = _pending;
        var buffer = new byte[65536];
        while (result.Count < responses)
        {
            while (TryTakeResponse(pending, out var response))
            {
                result.Add(response);
                if (result.Count == responses) return result;
            }
            int n = _socket.Receive(buffer);
            if (n == 0) throw new EndOfStreamException($"closed after {result.Count} responses; pending: {pending}");
            pending.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }
        return result;
    }

    private static bool TryTakeResponse(StringBuilder pending, out (int, string, string) response)
    {
        response = default;
        var text = pending.ToString();
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0) return false;
        string head = text[..end];
        int length = 0;
        foreach (var line in head.Split("\r\n"))
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[15..].Trim());
        int status = int.Parse(head.Substring(9, 3));
        if (status < 200) length = 0;
        if (text.Length < end + 4 + length) return false;
        response = (status, head, text.Substring(end + 4, length));
        pending.Remove(0, end + 4 + length);
        return true;
    }

    public void Dispose() => _socket.Dispose();
}

internal static class Handlers
{
    public static ValueTask Hello(ServerRequest request, ServerResponse response)
    {
        response.AddHeader("Content-Type"u8, "text/plain"u8);
        response.Write("Hello, World!"u8);
        return ValueTask.CompletedTask;
    }
}
