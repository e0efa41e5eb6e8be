using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Meanwhile.Http.Server;
using Xunit.Abstractions;

namespace Meanwhile.Http.Server.Tests;

/// <summary>
/// Faults around the server rather than in its clients: the process out of descriptors, files that change or vanish
/// while they are served, a shutdown in the middle of load. The server must never hang, crash, or send a wrong or cut
/// response as if it were whole.
/// </summary>
public sealed class FaultTests(ITestOutputHelper output)
{
    private const int Kb = 1024;
    private const int Mb = 1024 * 1024;

    [ToolFact("prlimit")]
    public async Task OutOfDescriptorsTheAcceptLoopWaitsWithoutSpinningAndServesAgain()
    {
        using var server = ServerProcess.Start("EchoServer.dll", "--port", "0", "--loops", "1");
        int port = server.WaitListening();
        Peer.AssertServes(port); // what a first exchange opens lazily is open now
        int baseline = server.OpenDescriptors();
        int limit = baseline + 4;
        var (code, _, stderr) = Tool.Run("prlimit", ["--pid", server.Id.ToString(CultureInfo.InvariantCulture), $"--nofile={limit}:{limit}"]);
        Assert.True(code == 0, stderr);

        // Eight clients, each with its request sent, more than there is room for. The backlog is first in, first out: the
        // first client not answered within 3 s is the first one the server could not accept (a stall, which only a
        // deadline can show), and the ones after it wait too.
        var clients = new List<Socket>();
        for (int i = 0; i < 8; i++)
        {
            var client = Peer.Connect(port);
            client.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"u8);
            clients.Add(client);
        }
        var firstWaiting = clients.FirstOrDefault(c => !c.Poll(TimeSpan.FromSeconds(3), SelectMode.SelectRead));
        Assert.True(firstWaiting is not null, "every client was answered: the server never ran out of descriptors");

        // Out of descriptors, with connections waiting in the backlog, for a second: the accept loop must not spin.
        var before = server.CpuTime();
        var window = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(1)); // a measurement window, not a wait for a condition
        var cpu = server.CpuTime() - before;
        double perSecond = cpu.TotalMilliseconds / window.Elapsed.TotalSeconds;
        var answered = clients.Where(c => c.Available > 0).ToList();
        var waiting = clients.Except(answered).ToList();
        output.WriteLine($"{baseline} descriptors open, limit {limit} ({server.OpenDescriptors()} open now): {answered.Count} clients answered, "
            + $"{waiting.Count} in the backlog; the server used {cpu.TotalMilliseconds:F0} ms of CPU in {window.ElapsedMilliseconds} ms");
        Assert.Contains(firstWaiting, waiting); // still not accepted at the end of the window
        Assert.True(perSecond < 200, $"{perSecond:F0} ms of CPU per second while out of descriptors");

        // Free descriptors by closing the answered clients, and open no new connection: the ones already waiting in
        // the backlog must be accepted all the same (no new readiness edge comes for them).
        foreach (var client in answered)
        {
            var reader = new ResponseReader(client);
            Assert.Equal(200, reader.Read()?.Status);
            client.Dispose();
        }
        foreach (var client in waiting)
        {
            var reader = new ResponseReader(client);
            Assert.Equal(200, reader.Read()?.Status); // ReceiveTimeout: 30 s
            client.Dispose();
        }
        Peer.AssertServes(port);
        server.Terminate();
        Assert.Equal(0, server.WaitForExit());
    }

    [Fact]
    public async Task A_file_truncated_while_it_is_sent_ends_the_connection_short_never_padded()
    {
        using var site = new StaticSite();
        var data = new byte[32 * Mb];
        new Random(7).NextBytes(data);
        string path = site.Write("shrinking.bin", data);
        site.Write("small.txt", "small");
        var (server, failure) = await StartFilesAsync(site);
        await using var _ = server;

        using var client = Peer.Connect(server.Port, receiveBuffer: 64 * Kb);
        client.Send("GET /shrinking.bin HTTP/1.1\r\nHost: x\r\n\r\n"u8);
        var reader = new ResponseReader(client);
        var head = reader.ReadHead()!;
        Assert.Equal(200, head.Status);
        Assert.Equal(data.Length.ToString(CultureInfo.InvariantCulture), head.Header("Content-Length"));
        // The head is out and the body on its way, held up by a client that does not read: cut the file to nothing (to
        // 0, so the kernel has no partial page to zero under bytes already queued for the client).
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write)) file.SetLength(0);
        var (body, ending) = reader.ReadToEnd();

        var error = await failure.Task.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"the client got {body.Length / Kb} KiB of {data.Length / Kb} KiB, then {ending}; the handler: {error.Message}");
        Assert.True(body.Length < data.Length, "the body was cut short");
        Assert.True(body.AsSpan().SequenceEqual(data.AsSpan(0, body.Length)), "what arrived is the file's own bytes: nothing padded, nothing wrong");
        Assert.IsType<IOException>(error);
        Assert.Contains("shrank", error.Message);
        await server.Connections.WaitForNoneOpenAsync();
        AssertSmallFileServed(server.Port);
    }

    [Fact]
    public async Task A_file_deleted_while_it_is_sent_arrives_whole()
    {
        using var site = new StaticSite();
        var data = new byte[16 * Mb];
        new Random(8).NextBytes(data);
        string path = site.Write("doomed.bin", data);
        site.Write("small.txt", "small");
        var (server, failure) = await StartFilesAsync(site);
        await using var _ = server;

        using var client = Peer.Connect(server.Port, receiveBuffer: 64 * Kb);
        client.Send("GET /doomed.bin HTTP/1.1\r\nHost: x\r\n\r\n"u8);
        var reader = new ResponseReader(client);
        Assert.Equal(200, reader.ReadHead()!.Status);
        File.Delete(path); // the open descriptor keeps the file alive: the response is what the head promised
        var body = reader.ReadBody();
        Assert.True(body.AsSpan().SequenceEqual(data), "the whole file, byte for byte");
        AssertNoFailure(failure);
        client.Send("GET /doomed.bin HTTP/1.1\r\nHost: x\r\n\r\n"u8);
        Assert.Equal(404, reader.Read()!.Status);
    }

    [Fact]
    public async Task A_file_that_comes_and_goes_gets_its_content_or_404_never_a_wrong_answer()
    {
        // A file renamed in and out of the root, and a directory renamed in under its name, as fast as a thread can:
        // requests race every step of the server's check (stat) and use (open). Each answer must be one of the states
        // the path really had, whole.
        using var site = new StaticSite();
        var content = new byte[100 * Kb];
        new Random(9).NextBytes(content);
        string hold = Path.Combine(site.Base, "hold");
        Directory.CreateDirectory(Path.Combine(hold, "dir"));
        File.WriteAllBytes(Path.Combine(hold, "file"), content);
        string target = Path.Combine(site.Root, "flicker");
        var (server, failure) = await StartFilesAsync(site);
        await using var _ = server;

        using var stop = new CancellationTokenSource();
        var flicker = Task.Factory.StartNew(() =>
        {
            int flips = 0;
            while (!stop.IsCancellationRequested)
            {
                File.Move(Path.Combine(hold, "file"), target);
                File.Move(target, Path.Combine(hold, "file"));
                Directory.Move(Path.Combine(hold, "dir"), target);
                Directory.Move(target, Path.Combine(hold, "dir"));
                flips++;
            }
            return flips;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var seen = new Dictionary<int, int>();
        try
        {
            using var client = Peer.Connect(server.Port);
            var reader = new ResponseReader(client);
            for (int i = 0; i < 400; i++)
            {
                client.Send("GET /flicker HTTP/1.1\r\nHost: x\r\n\r\n"u8);
                var response = reader.Read() ?? throw new EndOfStreamException($"the server closed before answering request {i}");
                seen[response.Status] = seen.GetValueOrDefault(response.Status) + 1;
                switch (response.Status)
                {
                    case 200:
                        Assert.True(response.Body.AsSpan().SequenceEqual(content), "a 200 carries the whole file");
                        break;
                    case 301: // a directory, asked for without its slash
                        Assert.Equal("/flicker/", response.Header("Location"));
                        break;
                    case 404: // nothing there at the stat, or no file any more at the open
                        break;
                    default:
                        Assert.Fail($"status {response.Status} for a path that was a file, nothing or a directory; the handler: {Failure(failure)}");
                        break;
                }
                Assert.Null(response.Header("Connection")); // every answer keeps the connection
            }
        }
        finally
        {
            stop.Cancel();
        }
        int flips = await flicker.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"{flips} flips; answers: {string.Join(", ", seen.OrderBy(p => p.Key).Select(p => $"{p.Key} x{p.Value}"))}");
        AssertNoFailure(failure);
    }

    [Fact]
    public async Task A_socket_file_under_the_root_is_refused_not_a_crash()
    {
        // Something a stat calls "not a directory" that cannot be opened for reading (open(2) says ENXIO).
        using var site = new StaticSite();
        site.Write("small.txt", "small");
        string socketPath = Path.Combine(site.Root, "app.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        var (server, failure) = await StartFilesAsync(site);
        await using var _ = server;
        using var client = new RawClient(server.Port);
        client.Send("GET /app.sock HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = client.ReadResponses(1)[0];
        Assert.Equal(403, response.Status);
        AssertNoFailure(failure);
        AssertSmallFileServed(server.Port);
    }

    [Fact]
    public async Task A_graceful_shutdown_under_load_cuts_no_response()
    {
        const int clients = 32;
        const int gated = 4;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gatedStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int gatedCount = 0;
        await using var server = await TestServer.StartAsync(async (request, response) =>
        {
            // Targets: /b/N buffered (Content-Length), /s/N streamed (chunked), /g/N streamed once the test opens the gate.
            long received = request.HasBody ? await request.ReadBodyAsync(new Discard()) : 0;
            response.AddHeader("X-Received", received.ToString(CultureInfo.InvariantCulture));
            var path = Encoding.ASCII.GetString(request.Path);
            int size = int.Parse(path.AsSpan(3), CultureInfo.InvariantCulture);
            if (path[1] == 'b')
            {
                response.Write(Load.Pattern.AsSpan(0, size));
                return;
            }
            if (path[1] == 'g')
            {
                if (Interlocked.Increment(ref gatedCount) == gated) gatedStarted.TrySetResult();
                await gate.Task;
            }
            await response.FlushAsync(); // the head goes out now: chunked, whatever the size
            for (int at = 0; at < size; at += 16 * Kb)
            {
                await response.WriteAsync(Load.Pattern.AsMemory(at, Math.Min(16 * Kb, size - at)));
                await EventLoop.Current.Yield();
            }
        }, new HttpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(30) }, loops: 2);

        var warm = new CountdownEvent(clients);
        var runs = Enumerable.Range(0, clients).Select(id => Task.Factory.StartNew(() => Load.Run(server.Port, id, warm, i =>
        {
            var random = new Random(id * 1000 + i);
            bool buffered = random.Next(2) == 0;
            int size = random.Next(4) == 0 ? random.Next(0, 300 * Kb) : random.Next(0, 4 * Kb);
            string target = id < gated && i == 3 ? $"/g/{200 * Kb}" : $"/{(buffered ? 'b' : 's')}/{size}";
            int expected = id < gated && i == 3 ? 200 * Kb : size;
            int upload = random.Next(3) == 0 ? random.Next(0, 100 * Kb) : 0;
            return (Load.Request(target, upload, chunked: random.Next(2) == 0), expected, upload);
        }), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        // Every client has had answers, and four requests are in flight: stop now, then let those four finish.
        Assert.True(warm.Wait(TimeSpan.FromSeconds(60)), "the clients never got going");
        await gatedStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var stopping = server.Server.StopAsync();
        gate.TrySetResult();
        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(60));
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        output.WriteLine($"{results.Sum(r => r.Responses)} whole responses to {clients} clients; endings: "
            + string.Join(", ", results.GroupBy(r => r.Ending).Select(g => $"{g.Key} x{g.Count()}")));
        Assert.All(results, r => Assert.True(r.Failure is null, $"client {r.Id}: {r.Failure}"));
        Assert.All(results.Take(gated), r => Assert.True(r.Responses >= 4, $"client {r.Id}'s request in flight at the stop was answered whole"));
    }

    [ToolFact("kill")]
    public async Task SigtermUnderLoadCutsNoResponse()
    {
        // The same with a real process: the echo server, 32 keep-alive clients, SIGTERM in the middle.
        const int clients = 32;
        using var server = ServerProcess.Start("EchoServer.dll", "--port", "0", "--loops", "2");
        int port = server.WaitListening();
        var warm = new CountdownEvent(clients);
        var runs = Enumerable.Range(0, clients).Select(id => Task.Factory.StartNew(() => Load.Run(port, id, warm, i =>
        {
            var random = new Random(id * 1000 + i);
            int upload = random.Next(2) == 0 ? random.Next(0, 64 * Kb) : 0;
            return (Load.Request($"/echo/{id}/{i}", upload, chunked: random.Next(2) == 0), -1, upload);
        }), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        Assert.True(warm.Wait(TimeSpan.FromSeconds(60)), "the clients never got going");
        server.Terminate();
        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, server.WaitForExit());
        output.WriteLine($"{results.Sum(r => r.Responses)} whole responses to {clients} clients; endings: "
            + string.Join(", ", results.GroupBy(r => r.Ending).Select(g => $"{g.Key} x{g.Count()}")));
        Assert.All(results, r => Assert.True(r.Failure is null, $"client {r.Id}: {r.Failure}"));
    }

    /// <summary>A static-file server whose handler reports (and rethrows) the first exception.</summary>
    private static async Task<(TestServer Server, TaskCompletionSource<Exception> Failure)> StartFilesAsync(StaticSite site)
    {
        var files = new StaticFiles(site.Root);
        var failure = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await TestServer.StartAsync(async (request, response) =>
        {
            try
            {
                await files.HandleAsync(request, response);
            }
            catch (Exception e)
            {
                failure.TrySetResult(e);
                throw;
            }
        });
        return (server, failure);
    }

    private static void AssertNoFailure(TaskCompletionSource<Exception> failure)
    {
        if (Failure(failure) is { } e) Assert.Fail($"the handler failed: {e}");
    }

    private static Exception? Failure(TaskCompletionSource<Exception> failure) => failure.Task.IsCompletedSuccessfully ? failure.Task.Result : null;

    private static void AssertSmallFileServed(int port)
    {
        using var next = new RawClient(port);
        next.Send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
        var answer = next.ReadResponses(1)[0];
        Assert.Equal((200, "small"), (answer.Status, answer.Body));
    }

    private sealed class Discard : System.Buffers.IBufferWriter<byte>
    {
        private readonly byte[] _scratch = new byte[16 * Kb];

        public void Advance(int count) { }

        public Memory<byte> GetMemory(int sizeHint = 0) => _scratch;

        public Span<byte> GetSpan(int sizeHint = 0) => _scratch;
    }
}

/// <summary>Keep-alive clients that check every response they get is whole, and that their connection ends only between responses.</summary>
internal static class Load
{
    /// <summary>Body bytes of the load tests' responses: response bytes are checked against it.</summary>
    public static readonly byte[] Pattern = Enumerable.Range(0, 1024 * 1024).Select(i => (byte)('a' + i % 26)).ToArray();

    public sealed record Result(int Id, int Responses, string Ending, string? Failure);

    /// <summary>A request with an optional body of <paramref name="upload"/> bytes, chunked or with a Content-Length.</summary>
    public static byte[] Request(string target, int upload, bool chunked)
    {
        var request = new MemoryStream();
        void Text(string s) => request.Write(Encoding.ASCII.GetBytes(s));
        if (upload == 0)
        {
            Text($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
            return request.ToArray();
        }
        if (!chunked)
        {
            Text($"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {upload}\r\n\r\n");
            request.Write(Pattern, 0, upload);
            return request.ToArray();
        }
        Text($"POST {target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int at = 0; at < upload; at += 7000)
        {
            int n = Math.Min(7000, upload - at);
            Text($"{n:x}\r\n");
            request.Write(Pattern, at, n);
            Text("\r\n");
        }
        Text("0\r\n\r\n");
        return request.ToArray();
    }

    /// <summary>
    /// One client: sends the requests <paramref name="next"/> makes, one at a time, and checks each response (status 200,
    /// framing complete, and when the expected length is not -1 the pattern body and the echoed upload size) until the
    /// server ends the connection, which it may only do between responses. Signals <paramref name="warm"/> after three answers.
    /// </summary>
    public static Result Run(int port, int id, CountdownEvent warm, Func<int, (byte[] Request, int Expected, int Upload)> next)
    {
        int responses = 0;
        try
        {
            using var socket = Peer.Connect(port);
            var reader = new ResponseReader(socket);
            for (int i = 0; ; i++)
            {
                var (request, expected, upload) = next(i);
                try
                {
                    socket.Send(request);
                }
                catch (SocketException e)
                {
                    // The server closed after the last response: nothing of a new one may have arrived.
                    var late = reader.Read();
                    return late is null ? new(id, responses, $"send failed ({e.SocketErrorCode})", null) : new(id, responses, "", $"a response after a failed send: {late.Status}");
                }
                var response = reader.Read();
                if (response is null) return new(id, responses, $"closed between responses ({reader.Ending})", null);
                if (response.Status != 200) return new(id, responses, "", $"status {response.Status}");
                if (expected >= 0)
                {
                    if (!response.Body.AsSpan().SequenceEqual(Pattern.AsSpan(0, expected))) return new(id, responses, "", $"a {response.Body.Length}-byte body where {expected} pattern bytes were due");
                    if (response.Header("X-Received") != upload.ToString(CultureInfo.InvariantCulture)) return new(id, responses, "", $"the server read {response.Header("X-Received")} of {upload} body bytes");
                }
                responses++;
                if (responses == 3) warm.Signal();
                if (response.Header("Connection") == "close")
                {
                    var after = reader.Read();
                    return after is null ? new(id, responses, "Connection: close", null) : new(id, responses, "", "a response after Connection: close");
                }
            }
        }
        catch (Exception e)
        {
            return new(id, responses, "", e.ToString());
        }
        finally
        {
            if (responses < 3) warm.Signal(); // never leave the test waiting for a client that failed early
        }
    }
}

/// <summary>Reads HTTP/1.1 responses from a blocking socket, byte-exact: Content-Length and chunked bodies.</summary>
internal sealed class ResponseReader(Socket socket)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public sealed record Response(int Status, string Head, byte[] Body)
    {
        public string? Header(string name)
        {
            foreach (var line in Head.Split("\r\n").Skip(1))
            {
                int colon = line.IndexOf(':');
                if (colon > 0 && line[..colon].Equals(name, StringComparison.OrdinalIgnoreCase)) return line[(colon + 1)..].Trim();
            }
            return null;
        }
    }

    /// <summary>How the stream ended ("end of stream" or "reset"), once it has.</summary>
    public string? Ending { get; private set; }

    private Response? _head;

    /// <summary>The next whole response; null if the stream ends before its first byte; throws if it ends inside it.</summary>
    public Response? Read()
    {
        var head = ReadHead();
        if (head is null) return null;
        return head with { Body = ReadBody() };
    }

    /// <summary>The next response's head (status and fields); null if the stream ends before its first byte.</summary>
    public Response? ReadHead()
    {
        int end;
        while ((end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (!Fill())
            {
                if (_end == _start) return null;
                throw new EndOfStreamException($"the stream ended ({Ending}) inside a response head: {Encoding.Latin1.GetString(_buffer, _start, _end - _start)}");
            }
        }
        string head = Encoding.Latin1.GetString(_buffer, _start, end);
        _start += end + 4;
        _head = new Response(int.Parse(head.AsSpan(9, 3), CultureInfo.InvariantCulture), head, []);
        return _head;
    }

    /// <summary>The body of the response whose head was just read, by its framing.</summary>
    public byte[] ReadBody()
    {
        var head = _head ?? throw new InvalidOperationException("no head read");
        _head = null;
        var body = new MemoryStream();
        if (head.Status is 204 or 304 || (head.Status >= 100 && head.Status < 200)) return [];
        if (head.Header("Transfer-Encoding") == "chunked")
        {
            while (true)
            {
                string line = ReadLine("a chunk size");
                int size = int.Parse(line.Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    while (ReadLine("the trailer").Length > 0) { }
                    return body.ToArray();
                }
                Take(body, size, "a chunk");
                if (ReadLine("a chunk's end").Length != 0) throw new InvalidDataException("a chunk longer than its size");
            }
        }
        if (head.Header("Content-Length") is { } length)
        {
            Take(body, long.Parse(length, CultureInfo.InvariantCulture), "a body");
            return body.ToArray();
        }
        throw new InvalidDataException($"a response without framing: {head.Head}");
    }

    /// <summary>Everything up to the end of the stream (a body cut short is expected), and how it ended.</summary>
    public (byte[] Bytes, string Ending) ReadToEnd()
    {
        _head = null;
        var all = new MemoryStream();
        do
        {
            all.Write(_buffer, _start, _end - _start);
            _start = _end;
        }
        while (Fill());
        return (all.ToArray(), Ending!);
    }

    private string ReadLine(string what)
    {
        int end;
        while ((end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
        {
            if (!Fill()) throw new EndOfStreamException($"the stream ended ({Ending}) inside {what}");
        }
        string line = Encoding.Latin1.GetString(_buffer, _start, end);
        _start += end + 2;
        return line;
    }

    private void Take(MemoryStream body, long count, string what)
    {
        while (count > 0)
        {
            if (_start == _end && !Fill()) throw new EndOfStreamException($"the stream ended ({Ending}) inside {what}, {count} bytes short");
            int n = (int)Math.Min(count, _end - _start);
            body.Write(_buffer, _start, n);
            _start += n;
            count -= n;
        }
    }

    /// <summary>Reads more; false at the end of the stream (a reset counts as one).</summary>
    private bool Fill()
    {
        if (Ending is not null) return false;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        int n;
        try
        {
            n = socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            Ending = "reset";
            return false;
        }
        if (n == 0)
        {
            Ending = "end of stream";
            return false;
        }
        _end += n;
        return true;
    }
}

/// <summary>A server example run as a process of its own (dotnet EXAMPLE.dll), with the environment (MEANWHILE_REACTOR) passed on.</summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<int> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(string assembly, string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _listening.TrySetException(new InvalidOperationException($"exited before listening: {Output}"));
                return;
            }
            lock (_output) _output.AppendLine(e.Data);
            // "listening on 127.0.0.1:PORT (...)"
            if (e.Data.StartsWith("listening on ", StringComparison.Ordinal))
                _listening.TrySetResult(int.Parse(e.Data.Split(' ')[2].Split(':')[^1], CultureInfo.InvariantCulture));
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (_output) _output.AppendLine(e.Data);
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
    }

    public int Id => _process.Id;

    public string Output { get { lock (_output) return _output.ToString(); } }

    public static ServerProcess Start(string assembly, params string[] args) => new(assembly, args);

    /// <summary>The port from the "listening on" line.</summary>
    public int WaitListening()
    {
        if (!_listening.Task.Wait(TimeSpan.FromSeconds(60))) throw new TimeoutException($"no 'listening on' line: {Output}");
        return _listening.Task.Result;
    }

    public int OpenDescriptors() => Directory.GetFiles($"/proc/{Id}/fd").Length;

    /// <summary>User plus system CPU time of the whole process so far (/proc/PID/stat, in clock ticks of 10 ms).</summary>
    public TimeSpan CpuTime()
    {
        string stat = File.ReadAllText($"/proc/{Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from the 3rd on: utime is the 14th, stime the 15th
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 1000.0 / 100); // USER_HZ is 100 on Linux whatever the kernel's HZ
    }

    /// <summary>SIGTERM: the graceful stop.</summary>
    public void Terminate()
    {
        var (code, _, stderr) = Tool.Run("kill", ["-TERM", Id.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(code == 0, stderr);
    }

    public int WaitForExit()
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(60))) throw new TimeoutException($"the server did not exit: {Output}");
        _process.WaitForExit(); // drains the output events
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
